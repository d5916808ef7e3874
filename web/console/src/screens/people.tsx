// People: find a person by name, and one person's history across the services as a timeline.
import { useState } from "preact/hooks";
import { get, query, type Page } from "../api";
import { countryName, formatDateTime, personName, state, t } from "../i18n";
import { withParams, type Route } from "../route";
import { Loading, Section, useLoad } from "../ui";

interface Person {
  id: string;
  family_name?: string;
  given_name?: string;
  nationality?: string;
  history?: { at: string; service: string; what: string; link: string; status?: string; [k: string]: unknown }[];
}

export function PeopleScreen(props: { route: Route }) {
  const q = props.route.params.get("q") ?? "";
  const [words, setWords] = useState(q);
  const found = useLoad(
    () =>
      q
        ? get<Page<Person>>("missions", "/v1/people" + query({ q, page_size: 50 })).then((a) => a.data.items)
        : Promise.resolve([] as Person[]),
    [q],
  );
  return (
    <>
      <h1>{t("nav_people")}</h1>
      <form role="search" class="filters" onSubmit={(e) => (e.preventDefault(), (location.hash = withParams(props.route, { q: words })))}>
        <label>
          {t("people_search")}
          <input type="search" value={words} onInput={(e) => setWords(e.currentTarget.value)} />
        </label>
        <button type="submit">{t("search")}</button>
      </form>
      <Loading loaded={found} />
      {q && found.data?.length === 0 && <p>{t("none")}</p>}
      <ul>
        {(found.data ?? []).map((p) => (
          <li>
            <a href={`#/people/${p.id}`}>{personName(p)}</a> · {countryName(p.nationality ?? "")}
          </li>
        ))}
      </ul>
    </>
  );
}

/// Where a history item's record opens in the console, when it has a screen.
function consoleLink(link: string): string | null {
  const m = link.match(/^\/v1\/(nominations|seminars|education-programmes)\/([^/]+)$/);
  if (!m) return null;
  if (m[1] === "nominations") return `#/nominations/${m[2]}`;
  return m[1] === "seminars" ? `#/missions/seminars/${m[2]}` : `#/missions/education/${m[2]}`;
}

export function PersonScreen(props: { id: string }) {
  const loaded = useLoad(() => get<Person>("missions", `/v1/people/${props.id}`).then((a) => a.data), [props.id]);
  if (!loaded.data) return <Loading loaded={loaded} />;
  const p = loaded.data;
  return (
    <>
      <p>
        <a href="#/people">← {t("back")}</a>
      </p>
      <h1>
        {personName(p)} · {countryName(p.nationality ?? "")}
      </h1>
      <Section title={t("timeline")} id="timeline">
        <ol class="timeline">
          {(p.history ?? []).map((h) => {
            const href = consoleLink(h.link);
            const [kind, what] = h.what.split(".");
            return (
              <li class={`svc-${h.service}`}>
                <time dateTime={h.at}>{formatDateTime(h.at)}</time>
                <span class="svc">{h.service}</span>
                <span>
                  {state(kind)}: {state(what)}
                </span>
                {href && (
                  <a href={href} aria-label={`${t("open")} ${h.what}`}>
                    {t("open")}
                  </a>
                )}
              </li>
            );
          })}
        </ol>
      </Section>
    </>
  );
}
