declare module "virtual:m49" {
  const regions: Record<string, string>;
  export default regions;
}
