// Missions: research missions, seminars with their registrations and waitlist, education
// programmes with the attendance grid and the certificates issued.
import { get, getAll, query } from "../api";
import type { Session } from "../auth";
import { countryName, formatDate, formatDateTime, t, title } from "../i18n";
import type { Route } from "../route";
import { Badge, Bar, Head, Loading, masked, Section, useLoad } from "../ui";
import { currentFiscalYear, YearPicker } from "./programmes";

interface Bilingual {
  ja: string;
  en: string;
}
interface Person {
  id: string;
  name: string;
  email?: string;
  country: string;
  organisation?: string;
  status: string;
  registered_at?: string;
  sessions_attended?: number;
  certificate_code?: string;
  person_id?: string;
}
interface Seminar {
  id: string;
  title: Bilingual;
  venue?: { name?: string; city?: string; country?: string };
  start_date: string;
  end_date: string;
  capacity: number;
  status: string;
  registrations?: Person[];
}
interface Education {
  id: string;
  title: Bilingual;
  location: string;
  country?: string;
  start_date: string;
  end_date: string;
  status: string;
  attendance_threshold_percent?: number;
  courses?: { id?: string; title?: string; sessions?: { id?: string; date?: string; topic?: string }[] }[];
  participants?: Person[];
  attendance?: Record<string, string[]>;
}
interface Mission {
  id: string;
  title: Bilingual;
  countries?: string[];
  start_date: string;
  end_date: string;
  status: string;
}

export function MissionsScreen(props: { route: Route }) {
  const fy = Number(props.route.params.get("fy") ?? currentFiscalYear());
  const loaded = useLoad(
    () =>
      Promise.all([
        getAll<Seminar>("missions", "/v1/seminars" + query({ fiscal_year: fy })),
        getAll<Education>("missions", "/v1/education-programmes" + query({ fiscal_year: fy })),
        getAll<Mission>("missions", "/v1/missions" + query({ fiscal_year: fy })),
      ]),
    [fy],
  );
  const [seminars, education, missions] = loaded.data ?? [[], [], []];
  return (
    <>
      <h1>
        {t("nav_missions")} · FY{fy}
      </h1>
      <YearPicker route={props.route} fy={fy} />
      <Loading loaded={loaded} />
      <Section title={t("seminars")} id="seminars">
        {seminars.length === 0 && <p>{t("none")}</p>}
        {seminars.map((s) => {
          const registered = (s.registrations ?? []).filter((r) => r.status === "registered").length;
          return (
            <div class="item">
              <a href={`#/missions/seminars/${s.id}`}>{title(s.title)}</a> <Badge status={s.status} />
              <Bar label={t("registered")} value={registered} max={s.capacity} />
            </div>
          );
        })}
      </Section>
      <Section title={t("education")} id="education">
        {education.length === 0 && <p>{t("none")}</p>}
        <ul>
          {education.map((e) => (
            <li>
              <a href={`#/missions/education/${e.id}`}>{title(e.title)}</a> <Badge status={e.status} /> ·{" "}
              {formatDate(e.start_date)} – {formatDate(e.end_date)}
            </li>
          ))}
        </ul>
      </Section>
      <Section title={t("missions")} id="missions">
        {missions.length === 0 && <p>{t("none")}</p>}
        <ul>
          {missions.map((m) => (
            <li>
              {title(m.title)} <Badge status={m.status} /> · {(m.countries ?? []).map(countryName).join(", ")} ·{" "}
              {formatDate(m.start_date)} – {formatDate(m.end_date)}
            </li>
          ))}
        </ul>
      </Section>
    </>
  );
}

function People(props: { people: Person[]; extra?: (p: Person) => string }) {
  return (
    <table class="grid">
      <Head columns={[t("name"), t("country"), t("organisation"), t("email"), t("status")]} />
      <tbody>
        {props.people.map((p) => (
          <tr>
            <td>{p.person_id ? <a href={`#/people/${p.person_id}`}>{p.name}</a> : p.name}</td>
            <td>{countryName(p.country)}</td>
            <td>{p.organisation}</td>
            <td>{masked(p.email) ? <span class="masked">{t("masked")}</span> : p.email}</td>
            <td>
              <Badge status={p.status} /> {props.extra?.(p)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SeminarScreen(props: { id: string; session: Session }) {
  const loaded = useLoad(() => get<Seminar>("missions", `/v1/seminars/${props.id}`).then((a) => a.data), [props.id]);
  if (!loaded.data) return <Loading loaded={loaded} />;
  const s = loaded.data;
  const regs = s.registrations ?? [];
  const registered = regs.filter((r) => r.status === "registered");
  const waitlist = regs.filter((r) => r.status === "waitlisted");
  return (
    <>
      <p>
        <a href="#/missions">← {t("back")}</a>
      </p>
      <h1>
        {title(s.title)} <Badge status={s.status} />
      </h1>
      <p>
        {s.venue?.name}, {s.venue?.city} ({countryName(s.venue?.country ?? "")}) · {formatDate(s.start_date)} –{" "}
        {formatDate(s.end_date)}
      </p>
      <Bar label={t("capacity")} value={registered.length} max={s.capacity} />
      <Section title={t("registrations")} id="registrations">
        <People people={registered} extra={(p) => formatDateTime(p.registered_at)} />
      </Section>
      <Section title={t("waitlist")} id="seminar-waitlist">
        {waitlist.length ? <People people={waitlist} /> : <p>{t("none")}</p>}
      </Section>
    </>
  );
}

export function EducationScreen(props: { id: string; session: Session }) {
  const loaded = useLoad(
    () => get<Education>("missions", `/v1/education-programmes/${props.id}`).then((a) => a.data),
    [props.id],
  );
  if (!loaded.data) return <Loading loaded={loaded} />;
  const e = loaded.data;
  const sessions = (e.courses ?? []).flatMap((c) => (c.sessions ?? []).map((s) => ({ ...s, course: c.title })));
  const participants = e.participants ?? [];
  const certified = participants.filter((p) => p.certificate_code);
  return (
    <>
      <p>
        <a href="#/missions">← {t("back")}</a>
      </p>
      <h1>
        {title(e.title)} <Badge status={e.status} />
      </h1>
      <p>
        {formatDate(e.start_date)} – {formatDate(e.end_date)} · {e.attendance_threshold_percent ?? 80}%
      </p>
      <Section title={t("attendance")} id="attendance">
        <div class="scroll">
          <table class="grid attendance">
            <thead>
              <tr>
                <th scope="col">{t("name")}</th>
                {sessions.map((s) => (
                  <th scope="col" title={`${s.course ?? ""} ${s.topic ?? ""}`}>
                    {formatDate(s.date)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {participants.map((p) => (
                <tr>
                  <th scope="row">{p.name}</th>
                  {sessions.map((s) => {
                    const present = (e.attendance?.[s.id ?? ""] ?? []).includes(p.id);
                    return (
                      <td class={present ? "present" : "absent"} aria-label={present ? t("present") : "—"}>
                        {present ? "✓" : "·"}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      <Section title={t("certificates")} id="certificates">
        {certified.length === 0 && <p>{t("none")}</p>}
        <ul>
          {certified.map((p) => (
            <li>
              {p.name} · <code>{p.certificate_code}</code>
            </li>
          ))}
        </ul>
      </Section>
    </>
  );
}
