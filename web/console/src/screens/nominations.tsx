// Nominations: search and filters over every programme, a paged table, and one nomination's
// detail with its history, the moves its state allows, the waitlist, letters and logistics.
import { useState } from "preact/hooks";
import { call, downloadCsv, get, getAll, query, type Page } from "../api";
import { can, type Session } from "../auth";
import {
  countryName,
  formatDate,
  formatDateTime,
  personName,
  state,
  t,
  title,
  type PersonName,
} from "../i18n";
import { withParams, type Route } from "../route";
import { Badge, ErrorBanner, Head, Loading, masked, Moves, SEAT_HOLDING, Section, useLoad } from "../ui";
import { seatUse, type Programme } from "./programmes";

export interface Nomination {
  id: string;
  programme_id: string;
  fiscal_year: number;
  status: string;
  waitlist_rank?: number;
  person_id?: string;
  candidate: PersonName & Record<string, unknown>;
  nominating_organisation?: { name?: string; country?: string; contact_email?: string };
  status_history?: { from?: string; to: string; at: string; by?: string; reason?: string }[];
  passport_disclosures?: { at: string; by: string; reason: string }[];
}

const STATUSES = [
  "submitted", "screened", "selected", "waitlisted", "rejected", "invited", "visa_applied",
  "visa_granted", "visa_denied", "travel_booked", "arrived", "completed", "withdrawn", "no_show",
  "programme_cancelled",
];

/// The moves each state allows (docs/api.md); the service still decides.
export const NEXT: Record<string, string[]> = {
  submitted: ["screened", "rejected", "withdrawn"],
  screened: ["selected", "waitlisted", "rejected", "withdrawn"],
  waitlisted: ["selected", "withdrawn"],
  selected: ["invited", "withdrawn"],
  invited: ["visa_applied", "withdrawn"],
  visa_applied: ["visa_granted", "visa_denied", "withdrawn"],
  visa_granted: ["travel_booked", "withdrawn"],
  travel_booked: ["arrived", "no_show", "withdrawn"],
  arrived: ["completed"],
};
const NEEDS_REASON = new Set(["rejected", "withdrawn", "visa_denied", "no_show"]);
const LETTER_STATES = new Set(["selected", "invited", "visa_applied", "visa_granted", "travel_booked"]);

export function NominationsScreen(props: { route: Route }) {
  const { route } = props;
  const p = route.params;
  const [words, setWords] = useState(p.get("q") ?? "");
  const [csvError, setCsvError] = useState<unknown>(null);
  const filters = Object.fromEntries(
    ["q", "status", "fiscal_year", "programme_id", "nationality"].map((k) => [k, p.get(k)]),
  );
  const programmes = useLoad(() => getAll<Programme>("invitations", "/v1/programmes"), []);
  const list = useLoad(
    () =>
      get<Page<Nomination>>(
        "invitations",
        "/v1/nominations" + query({ ...filters, page_size: 25, page_token: p.get("page") }),
      ).then((a) => a.data),
    [p.toString()],
  );
  const names = new Map((programmes.data ?? []).map((g) => [g.id, title(g.title)]));
  const go = (changes: Record<string, string | null>) =>
    (location.hash = withParams(route, { ...changes, page: null }));
  return (
    <>
      <h1>{t("nav_nominations")}</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => (e.preventDefault(), go({ q: words }))}
      >
        <label>
          {t("search_label")}
          <input type="search" name="q" value={words} onInput={(e) => setWords(e.currentTarget.value)} />
        </label>
        <button type="submit">{t("search")}</button>
        <label>
          {t("status")}
          <select value={p.get("status") ?? ""} onChange={(e) => go({ status: e.currentTarget.value })}>
            <option value="">{t("all")}</option>
            {STATUSES.map((s) => (
              <option value={s}>{state(s)}</option>
            ))}
          </select>
        </label>
        <label>
          {t("programme")}
          <select value={p.get("programme_id") ?? ""} onChange={(e) => go({ programme_id: e.currentTarget.value })}>
            <option value="">{t("all")}</option>
            {(programmes.data ?? []).map((g) => (
              <option value={g.id}>
                {g.fiscal_year} · {title(g.title)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("fiscal_year")}
          <input
            type="number"
            min={1989}
            max={2100}
            value={p.get("fiscal_year") ?? ""}
            onChange={(e) => go({ fiscal_year: e.currentTarget.value })}
          />
        </label>
        <label>
          {t("nationality")}
          <input
            size={3}
            maxLength={2}
            value={p.get("nationality") ?? ""}
            onChange={(e) => go({ nationality: e.currentTarget.value.toUpperCase() })}
          />
        </label>
      </form>
      <Loading loaded={list} />
      {list.data && (
        <>
          <table class="grid" aria-label={t("nav_nominations")}>
            <Head columns={[t("name"), t("nationality"), t("organisation"), t("programme"), t("status")]} />
            <tbody>
              {list.data.items.map((n) => (
                <tr>
                  <td>
                    <a href={`#/nominations/${n.id}`}>{personName(n.candidate)}</a>
                  </td>
                  <td>{countryName(String(n.candidate.nationality ?? ""))}</td>
                  <td>{n.nominating_organisation?.name}</td>
                  <td>{names.get(n.programme_id) ?? n.programme_id}</td>
                  <td>
                    <Badge status={n.status} />
                    {n.waitlist_rank ? ` #${n.waitlist_rank}` : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.data.items.length === 0 && <p>{t("none")}</p>}
          <button
            type="button"
            onClick={() =>
              void downloadCsv(
                "invitations",
                "/v1/nominations" + query(filters),
                "nominations.csv",
              ).catch(setCsvError)
            }
          >
            {t("download_csv")}
          </button>
          <ErrorBanner error={csvError} />
          <nav class="pager" aria-label="pages">
            {p.get("page") && <a href={withParams(route, { page: null })}>{t("first_page")}</a>}
            {list.data.next_page_token && (
              <a href={withParams(route, { page: list.data.next_page_token })}>{t("next_page")}</a>
            )}
          </nav>
        </>
      )}
    </>
  );
}

interface DetailData {
  nomination: Nomination;
  etag: string | null;
  programme: Programme;
  siblings: Nomination[];
}

async function loadDetail(id: string): Promise<DetailData> {
  const answer = await get<Nomination>("invitations", `/v1/nominations/${id}`);
  const nomination = answer.data;
  const [programme, siblings] = await Promise.all([
    get<Programme>("invitations", `/v1/programmes/${nomination.programme_id}`).then((a) => a.data),
    getAll<Nomination>("invitations", `/v1/programmes/${nomination.programme_id}/nominations`),
  ]);
  return { nomination, etag: answer.etag, programme, siblings };
}

export function NominationDetail(props: { id: string; session: Session }) {
  const loaded = useLoad(() => loadDetail(props.id), [props.id]);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [asking, setAsking] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  if (!loaded.data) return <Loading loaded={loaded} />;
  const { nomination: n, programme, siblings, etag } = loaded.data;
  const writer = can(props.session, "write");
  const use = seatUse(programme, siblings);
  const nationality = String(n.candidate.nationality ?? "");
  const byId = new Map(siblings.map((s) => [s.id, s]));
  const waitlist = siblings
    .filter((s) => s.status === "waitlisted")
    .sort((a, b) => (a.waitlist_rank ?? 0) - (b.waitlist_rank ?? 0));

  const move = async (to: string, why?: string) => {
    setError(null);
    setMessage(null);
    try {
      const body: Record<string, string> = { to };
      if (why) body.reason = why;
      const answer = await call<Nomination & { promoted?: string[] }>(
        "invitations", "POST", `/v1/nominations/${n.id}/transitions`, { body, ifMatch: etag },
      );
      const promoted = answer.data.promoted ?? [];
      setMessage(
        promoted.length
          ? t("promoted", { names: promoted.map((id) => personName(byId.get(id)?.candidate)).join(", ") })
          : t("done"),
      );
      setAsking(null);
      setReason("");
      loaded.reload();
    } catch (e) {
      setError(e);
    }
  };
  const start = (to: string) => (NEEDS_REASON.has(to) ? setAsking(to) : void move(to));
  const c = n.candidate;
  const field = (label: string, value: unknown) => (
    <>
      <dt>{label}</dt>
      <dd>{masked(value) ? <span class="masked">{t("masked")}</span> : String(value)}</dd>
    </>
  );
  return (
    <>
      <p>
        <a href="#/nominations">← {t("back")}</a>
      </p>
      <h1>
        {personName(c)} <Badge status={n.status} />
      </h1>
      {message && <p role="status" class="ok">{message}</p>}
      <ErrorBanner error={error} onReload={() => (setError(null), loaded.reload())} />
      <div class="columns">
        <Section title={t("name")} id="who">
          <dl>
            {field(t("nationality"), countryName(nationality))}
            {field(t("organisation"), n.nominating_organisation?.name)}
            {field(t("union"), c.union)}
            {field(t("position"), c.position)}
            {field(t("email"), c.email)}
            {field(t("date_of_birth"), c.date_of_birth)}
            {field(t("passport"), c.passport_number)}
            {n.person_id && (
              <>
                <dt>{t("timeline")}</dt>
                <dd>
                  <a href={`#/people/${n.person_id}`}>{t("open")}</a>
                </dd>
              </>
            )}
          </dl>
        </Section>
        <Section title={title(programme.title)} id="seats">
          <p class="seats" data-testid="seats">
            {t("seats_used", { used: use.used, seats: programme.seats })}
          </p>
          {programme.country_quotas?.[nationality] !== undefined && (
            <p data-testid="country-quota">
              {countryName(nationality)}: {use.byCountry[nationality] ?? 0} / {programme.country_quotas[nationality]}
            </p>
          )}
        </Section>
      </div>
      <Section title={t("transitions")} id="moves">
        {writer ? (
          (NEXT[n.status] ?? []).length ? (
            <Moves moves={NEXT[n.status] ?? []} onMove={start} />
          ) : (
            <p>{t("no_transitions")}</p>
          )
        ) : (
          <p>{t("read_only")}</p>
        )}
        {asking && (
          <form class="reason" onSubmit={(e) => (e.preventDefault(), void move(asking, reason))}>
            <label for="reason">
              {t("reason_needed")} ({state(asking)})
            </label>
            <input id="reason" required minLength={3} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
            <button type="submit">{t("confirm")}</button>
            <button type="button" onClick={() => setAsking(null)}>
              {t("cancel")}
            </button>
          </form>
        )}
      </Section>
      <Section title={t("history")} id="history">
        <ol class="history">
          {(n.status_history ?? []).map((h) => (
            <li>
              <time dateTime={h.at}>{formatDateTime(h.at)}</time> {h.from ? `${state(h.from)} → ` : ""}
              {state(h.to)}
              {h.by ? ` · ${h.by}` : ""}
              {h.reason ? ` · “${h.reason}”` : ""}
            </li>
          ))}
        </ol>
      </Section>
      <Section title={t("waitlist")} id="waitlist">
        {waitlist.length === 0 ? (
          <p>{t("none")}</p>
        ) : (
          <ol class="waitlist">
            {waitlist.map((w) => (
              <li value={w.waitlist_rank}>
                <a href={`#/nominations/${w.id}`}>{personName(w.candidate)}</a> ·{" "}
                {countryName(String(w.candidate.nationality ?? ""))}
              </li>
            ))}
          </ol>
        )}
      </Section>
      <Letters nomination={n} session={props.session} />
      {writer && SEAT_HOLDING.has(n.status) && <LogisticsPanel id={n.id} />}
    </>
  );
}

function Letters(props: { nomination: Nomination; session: Session }) {
  const [error, setError] = useState<unknown>(null);
  const [reason, setReason] = useState("");
  const n = props.nomination;
  if (!can(props.session, "write")) return null;
  const lang = document.documentElement.lang === "ja" ? "ja" : "en";
  // The window opens before the await, so the browser treats it as the click's own.
  const open = async (method: string, path: string, body?: unknown) => {
    setError(null);
    const win = window.open("", "_blank");
    try {
      const html = await call<string>("invitations", method, path, { accept: "text/html", body });
      win?.document.open();
      win?.document.write(html.data);
      win?.document.close();
    } catch (e) {
      win?.close();
      setError(e);
    }
  };
  const document_ = (kind: string) => void open("GET", `/v1/nominations/${n.id}/documents/${kind}?lang=${lang}`);
  // The full passport number is disclosed only as a recorded act, with its reason.
  const disclose = (e: Event) => {
    e.preventDefault();
    void open("POST", `/v1/nominations/${n.id}/guarantor-letters`, { reason, lang });
  };
  return (
    <Section title={t("letters")} id="letters">
      {LETTER_STATES.has(n.status) ? (
        <>
          <div class="actions">
            <button type="button" onClick={() => document_("invitation-letter")}>
              {t("invitation_letter")}
            </button>
            <button type="button" onClick={() => document_("guarantor-letter")}>
              {t("guarantor_letter")}
            </button>
          </div>
          <form class="reason" onSubmit={disclose}>
            <label for="disclosure">{t("disclosure_reason")}</label>
            <input id="disclosure" required minLength={10} maxLength={500} value={reason}
              onInput={(e) => setReason(e.currentTarget.value)} />
            <button type="submit">{t("guarantor_full")}</button>
          </form>
        </>
      ) : (
        <p>{t("letters_when")}</p>
      )}
      {(n.passport_disclosures ?? []).length > 0 && (
        <ul class="disclosures" aria-label={t("disclosures")}>
          {(n.passport_disclosures ?? []).map((d) => (
            <li>
              {formatDateTime(d.at)} · {d.by} · {d.reason}
            </li>
          ))}
        </ul>
      )}
      <ErrorBanner error={error} />
    </Section>
  );
}

interface Logistics {
  arrival?: { flight?: string; airport?: string; at?: string };
  departure?: { flight?: string; airport?: string; at?: string };
  hotel?: { name?: string; city?: string; check_in?: string; check_out?: string };
}

function LogisticsPanel(props: { id: string }) {
  const loaded = useLoad(
    () =>
      get<Logistics>("invitations", `/v1/nominations/${props.id}/logistics`)
        .then((a) => a.data)
        .catch((e: { status?: number }) => (e.status === 404 ? null : Promise.reject(e))),
    [props.id],
  );
  const leg = (l?: { flight?: string; airport?: string; at?: string }) =>
    l ? `${l.flight ?? ""} ${l.airport ?? ""} ${l.at ?? ""}` : "—";
  return (
    <Section title={t("logistics")} id="logistics">
      <Loading loaded={loaded} />
      {!loaded.loading && !loaded.data && <p>{t("no_logistics")}</p>}
      {loaded.data && (
        <dl>
          <dt>{t("arrival")}</dt>
          <dd>{leg(loaded.data.arrival)}</dd>
          <dt>{t("departure")}</dt>
          <dd>{leg(loaded.data.departure)}</dd>
          <dt>{t("hotel")}</dt>
          <dd>
            {loaded.data.hotel
              ? `${loaded.data.hotel.name ?? ""}, ${loaded.data.hotel.city ?? ""} (${formatDate(loaded.data.hotel.check_in)} – ${formatDate(loaded.data.hotel.check_out)})`
              : "—"}
          </dd>
        </dl>
      )}
    </Section>
  );
}
