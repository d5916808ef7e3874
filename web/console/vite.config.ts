import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

// The country → UN M49 region table has one source, common/util/m49.cpp (the services' quota
// rule reads it); the console imports it as `virtual:m49`, parsed from that file at build time.
function m49(): Plugin {
  const source = fileURLToPath(new URL("../../common/util/m49.cpp", import.meta.url));
  return {
    name: "jilaf-m49",
    resolveId: (id) => (id === "virtual:m49" ? "\0virtual:m49" : null),
    load(id) {
      if (id !== "\0virtual:m49") return null;
      const text = readFileSync(source, "utf8").replace(/"\s*\n\s*"/g, "");
      const regions: Record<string, string> = {};
      for (const [, region, codes] of text.matchAll(/\{"([a-z_]+)",\s*"([A-Z ]+)"\}/g)) {
        for (const code of codes.split(/\s+/).filter(Boolean)) regions[code] = region;
      }
      if (Object.keys(regions).length < 200) throw new Error(`m49: parsed too little of ${source}`);
      return `export default ${JSON.stringify(regions)};`;
    },
  };
}

// Preact's JSX through esbuild (no Babel). The output directory comes from the caller
// (scripts/lib/console.sh), so the source tree stays clean.
export default defineConfig({
  plugins: [m49()],
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  base: "./",
  build: {
    outDir: process.env.JILAF_CONSOLE_OUT || "dist",
    emptyOutDir: true,
    target: "es2020",
    sourcemap: false,
  },
});
