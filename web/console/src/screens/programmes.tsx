// The programme year: each programme of a fiscal year with its seats and quotas as used, per
// country and per UN M49 region, counted from the nominations that hold a seat.
import regions from "virtual:m49";
import { getAll, query } from "../api";
import { countryName, formatDate, state, t, title } from "../i18n";
import { withParams, type Route } from "../route";
import { Badge, Bar, Head, Loading, SEAT_HOLDING, Section, useLoad } from "../ui";
import type { Nomination } from "./nominations";

export interface Programme {
  id: string;
  fiscal_year: number;
  title: { ja: string; en: string };
  track: string;
  region?: string;
  start_date: string;
  end_date: string;
  seats: number;
  country_quotas?: Record<string, number>;
  region_quotas?: Record<string, number>;
  status: string;
}

export interface SeatUse {
  used: number;
  waitlisted: number;
  byCountry: Record<string, number>;
  byRegion: Record<string, number>;
}

export function seatUse(_programme: Programme, nominations: Nomination[]): SeatUse {
  const use: SeatUse = { used: 0, waitlisted: 0, byCountry: {}, byRegion: {} };
  for (const n of nominations) {
    if (n.status === "waitlisted") use.waitlisted++;
    if (!SEAT_HOLDING.has(n.status)) continue;
    const country = String(n.candidate.nationality ?? "");
    use.used++;
    use.byCountry[country] = (use.byCountry[country] ?? 0) + 1;
    const region = regions[country];
    if (region) use.byRegion[region] = (use.byRegion[region] ?? 0) + 1;
  }
  return use;
}

/// The Japanese fiscal year (April–March) of today in Tokyo.
export function currentFiscalYear(): number {
  const [y, m] = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo", year: "numeric", month: "2-digit" })
    .format(new Date())
    .split("-")
    .map(Number);
  return m >= 4 ? y : y - 1;
}

async function loadYear(fy: number) {
  const programmes = await getAll<Programme>("invitations", "/v1/programmes" + query({ fiscal_year: fy }));
  return Promise.all(
    programmes.map(async (p) => ({
      programme: p,
      use: seatUse(p, await getAll<Nomination>("invitations", `/v1/programmes/${p.id}/nominations`)),
    })),
  );
}

export function YearPicker(props: { route: Route; fy: number }) {
  return (
    <label class="year">
      {t("fiscal_year")}
      <input
        type="number"
        min={1989}
        max={2100}
        value={props.fy}
        onChange={(e) => (location.hash = withParams(props.route, { fy: e.currentTarget.value }))}
      />
    </label>
  );
}

export function ProgrammeYearScreen(props: { route: Route }) {
  const fy = Number(props.route.params.get("fy") ?? currentFiscalYear());
  const loaded = useLoad(() => loadYear(fy), [fy]);
  return (
    <>
      <h1>
        {t("nav_programmes")} · FY{fy}
      </h1>
      <YearPicker route={props.route} fy={fy} />
      <Loading loaded={loaded} />
      {loaded.data?.length === 0 && <p>{t("none")}</p>}
      {loaded.data?.map(({ programme: p, use }) => (
        <Section title={title(p.title)} id={`p-${p.id}`}>
          <p>
            <Badge status={p.status} /> {state(p.track)} · {formatDate(p.start_date)} – {formatDate(p.end_date)}
            {" · "}
            <a href={`#/nominations?programme_id=${p.id}`}>{t("nav_nominations")}</a>
          </p>
          <Bar label={t("seats")} value={use.used} max={p.seats} tone={use.used >= p.seats ? "full" : ""} />
          <p>
            {t("waitlisted")}: {use.waitlisted}
          </p>
          <div class="columns">
            {Object.keys(p.country_quotas ?? {}).length > 0 && (
              <table class="grid compact">
                <caption>{t("quota_country")}</caption>
                <Head columns={[t("country"), t("used"), t("quota")]} />
                <tbody>
                  {Object.entries(p.country_quotas ?? {}).map(([c, q]) => (
                    <tr class={(use.byCountry[c] ?? 0) >= q ? "full" : ""}>
                      <th scope="row">{countryName(c)}</th>
                      <td>{use.byCountry[c] ?? 0}</td>
                      <td>{q}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <table class="grid compact">
              <caption>{t("quota_region")}</caption>
              <Head columns={[t("region"), t("used"), t("quota")]} />
              <tbody>
                {[...new Set([...Object.keys(use.byRegion), ...Object.keys(p.region_quotas ?? {})])].map((r) => (
                  <tr>
                    <th scope="row">{state(r)}</th>
                    <td>{use.byRegion[r] ?? 0}</td>
                    <td>{p.region_quotas?.[r] ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
      ))}
    </>
  );
}
