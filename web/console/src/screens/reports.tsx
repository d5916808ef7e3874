// Fiscal-year reports as charts. Chart.js is imported only here, lazily, so it is never part of
// the first load; each chart's figures are also a table (for screen readers) and a CSV.
import { useEffect, useRef } from "preact/hooks";
import { get } from "../api";
import { countryName, lang, state, t } from "../i18n";
import type { Route } from "../route";
import { Loading, Section, useLoad } from "../ui";
import { currentFiscalYear, YearPicker } from "./programmes";

interface Series {
  label: string;
  values: number[];
}
interface ChartData {
  labels: string[];
  series: Series[];
}

type Counts = Record<string, Record<string, number>>;

async function loadReports(fy: number) {
  const [invitations, projects, missions] = await Promise.all([
    get<{ by_country?: Counts }>("invitations", `/v1/reports/fiscal-years/${fy}`).then((a) => a.data),
    get<{ by_area?: Counts }>("projects", `/v1/reports/fiscal-years/${fy}`).then((a) => a.data),
    get<Record<string, Record<string, unknown>>>("missions", `/v1/reports/fiscal-years/${fy}`).then((a) => a.data),
  ]);
  const countries = Object.keys(invitations.by_country ?? {}).sort();
  const areas = Object.keys(projects.by_area ?? {}).sort();
  const numeric = (o: Record<string, unknown> | undefined) =>
    Object.entries(o ?? {}).filter((e): e is [string, number] => typeof e[1] === "number");
  const missionFigures = [
    ...numeric(missions.seminars).map(([k, v]) => [`${t("seminars")}: ${state(k)}`, v] as const),
    ...numeric(missions.education).map(([k, v]) => [`${t("education")}: ${state(k)}`, v] as const),
  ];
  const invitationsChart: ChartData = {
    labels: countries.map(countryName),
    series: (["nominated", "selected", "completed"] as const).map((k) => ({
      label: t(k),
      values: countries.map((c) => invitations.by_country?.[c]?.[k] ?? 0),
    })),
  };
  const projectsChart: ChartData = {
    labels: areas.map(state),
    series: [
      { label: t("committed"), values: areas.map((a) => projects.by_area?.[a]?.committed_jpy ?? 0) },
      { label: t("disbursed"), values: areas.map((a) => projects.by_area?.[a]?.disbursed_jpy ?? 0) },
    ],
  };
  const missionsChart: ChartData = {
    labels: missionFigures.map(([k]) => k),
    series: [{ label: `FY${fy}`, values: missionFigures.map(([, v]) => v) }],
  };
  return { invitationsChart, projectsChart, missionsChart };
}

function csvOf(data: ChartData): string {
  const cell = (v: string | number) => {
    const text = String(v);
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const rows = [["", ...data.series.map((s) => s.label)]];
  data.labels.forEach((label, i) => rows.push([label, ...data.series.map((s) => String(s.values[i]))]));
  return "\uFEFF" + rows.map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
}

function download(name: string, data: ChartData) {
  const url = URL.createObjectURL(new Blob([csvOf(data)], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const COLOURS = ["#1f5fa8", "#c2571a", "#2f7d32", "#6b3fa0"];

function Chart(props: { id: string; caption: string; data: ChartData; file: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let chart: { destroy: () => void } | null = null;
    let live = true;
    void import("chart.js/auto").then(({ default: ChartJs }) => {
      if (!live || !canvas.current) return;
      chart = new ChartJs(canvas.current, {
        type: "bar",
        data: {
          labels: props.data.labels,
          datasets: props.data.series.map((s, i) => ({
            label: s.label,
            data: s.values,
            backgroundColor: COLOURS[i % COLOURS.length],
          })),
        },
        options: {
          animation: false,
          responsive: true,
          locale: lang() === "ja" ? "ja-JP" : "en-GB",
        },
      });
      canvas.current.dataset.ready = "true";
    });
    return () => {
      live = false;
      chart?.destroy();
    };
  }, [props.data]);
  return (
    <Section title={props.caption} id={props.id}>
      <canvas ref={canvas} role="img" aria-label={props.caption} />
      <details>
        <summary>{t("what")}</summary>
        <table class="grid compact">
          <thead>
            <tr>
              <th scope="col">{props.caption}</th>
              {props.data.series.map((s) => (
                <th scope="col">{s.label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.data.labels.map((label, i) => (
              <tr>
                <th scope="row">{label}</th>
                {props.data.series.map((s) => (
                  <td class="num">{s.values[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <button type="button" onClick={() => download(props.file, props.data)}>
        {t("download_csv")}
      </button>
    </Section>
  );
}

export function ReportsScreen(props: { route: Route }) {
  const fy = Number(props.route.params.get("fy") ?? currentFiscalYear());
  const loaded = useLoad(() => loadReports(fy), [fy, lang()]);
  return (
    <>
      <h1>
        {t("fy_report")} · FY{fy}
      </h1>
      <YearPicker route={props.route} fy={fy} />
      <Loading loaded={loaded} />
      {loaded.data && (
        <>
          <Chart id="c-inv" caption={t("chart_invitations")} data={loaded.data.invitationsChart} file={`invitations-fy${fy}.csv`} />
          <Chart id="c-prj" caption={t("chart_projects")} data={loaded.data.projectsChart} file={`projects-fy${fy}.csv`} />
          <Chart id="c-mis" caption={t("chart_missions")} data={loaded.data.missionsChart} file={`missions-fy${fy}.csv`} />
        </>
      )}
    </>
  );
}
