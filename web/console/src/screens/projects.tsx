// Projects: budget, committed and disbursed as bars; tranches with the progress report that
// holds them; reports due and overdue; indicators against their targets.
import { useState } from "preact/hooks";
import { call, get, getAll, query, type Page } from "../api";
import { can, type Session } from "../auth";
import { countryName, formatDate, number, state, t, title, yen } from "../i18n";
import { withParams, type Route } from "../route";
import { Badge, Bar, ErrorBanner, Head, Loading, Moves, Section, useLoad } from "../ui";
import { currentFiscalYear, YearPicker } from "./programmes";

interface Project {
  id: string;
  title: { ja: string; en: string };
  country: string;
  area: string;
  support_type: string;
  status: string;
  fiscal_year: number;
  budget?: { amount_jpy?: number };
  version: number;
}
interface Tranche {
  id: string;
  amount: number;
  currency: string;
  amount_jpy: number;
  planned_date: string;
  status: string;
}
interface Report {
  id: string;
  kind: string;
  title?: string;
  due_date: string;
  status: string;
}
interface Indicator {
  id: string;
  name: string;
  unit: string;
  baseline: number;
  target: number;
  actuals?: Record<string, { value: number }>;
}

/// Today in Tokyo as YYYY-MM-DD, the business calendar's day.
export function today(): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo" }).format(new Date());
}

export function ProjectsScreen(props: { route: Route }) {
  const fy = Number(props.route.params.get("fy") ?? currentFiscalYear());
  const list = useLoad(
    () => get<Page<Project>>("projects", "/v1/projects" + query({ fiscal_year: fy, page_size: 100 })).then((a) => a.data),
    [fy],
  );
  return (
    <>
      <h1>
        {t("nav_projects")} · FY{fy}
      </h1>
      <YearPicker route={props.route} fy={fy} />
      <Loading loaded={list} />
      {list.data && (
        <table class="grid">
          <Head columns={[t("nav_projects"), t("country"), t("status"), t("budget")]} />
          <tbody>
            {list.data.items.map((p) => (
              <tr>
                <td>
                  <a href={`#/projects/${p.id}`}>{title(p.title)}</a>
                </td>
                <td>{countryName(p.country)}</td>
                <td>
                  <Badge status={p.status} />
                </td>
                <td class="num">{yen(p.budget?.amount_jpy)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data?.items.length === 0 && <p>{t("none")}</p>}
      {list.data?.next_page_token && <a href={withParams(props.route, {})}>{t("next_page")}</a>}
    </>
  );
}

async function loadProject(id: string) {
  const [project, tranches, reports, indicators] = await Promise.all([
    get<Project>("projects", `/v1/projects/${id}`).then((a) => a.data),
    getAll<Tranche>("projects", `/v1/projects/${id}/tranches`),
    getAll<Report>("projects", `/v1/projects/${id}/reports`),
    getAll<Indicator>("projects", `/v1/projects/${id}/indicators`),
  ]);
  return { project, tranches, reports, indicators };
}

/// The progress report that holds a tranche: due before its planned date and not yet approved
/// (the service's `report-outstanding` rule).
function holdingReport(tranche: Tranche, reports: Report[]): Report | undefined {
  if (tranche.status !== "planned" && tranche.status !== "requested") return undefined;
  return reports
    .filter((r) => r.kind === "progress" && r.status !== "approved" && r.due_date < tranche.planned_date)
    .sort((a, b) => a.due_date.localeCompare(b.due_date))[0];
}

const TRANCHE_NEXT: Record<string, string[]> = {
  planned: ["requested", "cancelled"],
  requested: ["approved", "cancelled"],
  approved: ["paid", "cancelled"],
};
const REPORT_NEXT: Record<string, string[]> = {
  due: ["submitted"],
  submitted: ["approved", "returned"],
  returned: ["submitted"],
};

export function ProjectDetail(props: { id: string; session: Session }) {
  const loaded = useLoad(() => loadProject(props.id), [props.id]);
  const [error, setError] = useState<unknown>(null);
  const writer = can(props.session, "write");
  if (!loaded.data) return <Loading loaded={loaded} />;
  const { project, tranches, reports, indicators } = loaded.data;
  const budget = project.budget?.amount_jpy ?? 0;
  const committed = tranches.filter((x) => x.status === "approved" || x.status === "paid").reduce((s, x) => s + x.amount_jpy, 0);
  const disbursed = tranches.filter((x) => x.status === "paid").reduce((s, x) => s + x.amount_jpy, 0);
  const move = async (kind: "tranches" | "reports", id: string, to: string) => {
    setError(null);
    try {
      const current = await get<unknown>("projects", `/v1/${kind}/${id}`);
      const body: Record<string, string> = { to };
      if (to === "returned" || to === "cancelled") body.reason = window.prompt(t("reason_needed")) ?? "";
      await call("projects", "POST", `/v1/${kind}/${id}/transitions`, { body, ifMatch: current.etag });
      loaded.reload();
    } catch (e) {
      setError(e);
    }
  };
  const day = today();
  return (
    <>
      <p>
        <a href="#/projects">← {t("back")}</a>
      </p>
      <h1>
        {title(project.title)} <Badge status={project.status} />
      </h1>
      <p>
        {countryName(project.country)} · {state(project.area)} · {state(project.support_type)} · FY{project.fiscal_year}
      </p>
      <ErrorBanner error={error} onReload={loaded.reload} />
      <Section title={t("budget")} id="money">
        <Bar label={t("budget")} value={budget} max={budget} money />
        <Bar label={t("committed")} value={committed} max={budget} money tone="committed" />
        <Bar label={t("disbursed")} value={disbursed} max={budget} money tone="disbursed" />
      </Section>
      <Section title={t("tranches")} id="tranches">
        <table class="grid">
          <Head columns={[t("planned_date"), t("amount"), t("status"), writer && t("transitions")]} />
          <tbody>
            {tranches.map((x) => {
              const hold = holdingReport(x, reports);
              return (
                <tr data-tranche={x.id}>
                  <td>{formatDate(x.planned_date)}</td>
                  <td class="num">
                    {x.currency === "JPY" ? yen(x.amount) : `${number(x.amount)} ${x.currency} (${yen(x.amount_jpy)})`}
                  </td>
                  <td>
                    <Badge status={x.status} />
                    {hold && (
                      <span class="held" data-testid="held">
                        {" "}
                        {t("held_by", { date: formatDate(hold.due_date), status: state(hold.status) })}
                      </span>
                    )}
                  </td>
                  {writer && (
                    <Moves cell moves={TRANCHE_NEXT[x.status] ?? []} onMove={(to) => void move("tranches", x.id, to)} />
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
        {tranches.length === 0 && <p>{t("none")}</p>}
      </Section>
      <Section title={t("reports")} id="reports">
        <table class="grid">
          <Head columns={[t("due_date"), t("what"), t("status"), writer && t("transitions")]} />
          <tbody>
            {reports.map((r) => (
              <tr data-report={r.id}>
                <td>{formatDate(r.due_date)}</td>
                <td>
                  {state(r.kind)} {r.title ?? ""}
                </td>
                <td>
                  <Badge status={r.status} />
                  {r.status !== "approved" && r.status !== "submitted" && r.due_date < day && (
                    <strong class="overdue"> {t("overdue")}</strong>
                  )}
                </td>
                {writer && (
                  <Moves cell moves={REPORT_NEXT[r.status] ?? []} onMove={(to) => void move("reports", r.id, to)} />
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {reports.length === 0 && <p>{t("none")}</p>}
      </Section>
      <Section title={t("indicators")} id="indicators">
        {indicators.length === 0 && <p>{t("none")}</p>}
        {indicators.map((i) => {
          const periods = Object.keys(i.actuals ?? {}).sort();
          const latest = periods.length ? i.actuals![periods[periods.length - 1]].value : i.baseline;
          return <Bar label={`${i.name} (${i.unit})`} value={latest} max={Math.max(i.target, latest)} />;
        })}
      </Section>
    </>
  );
}
