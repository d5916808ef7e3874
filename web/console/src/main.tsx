import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { onRetryWait, SIGNED_OUT_EVENT } from "./api";
import {
  beginSignIn,
  can,
  completeSignIn,
  currentSession,
  signOut,
  storeToken,
  type Session,
} from "./auth";
import { config, loadConfig } from "./config";
import { lang, setLang, t } from "./i18n";
import { Route, useRoute } from "./route";
import { InboxBadge, InboxScreen } from "./screens/inbox";
import { MissionsScreen, SeminarScreen, EducationScreen } from "./screens/missions";
import { NominationDetail, NominationsScreen } from "./screens/nominations";
import { PeopleScreen, PersonScreen } from "./screens/people";
import { ProgrammeYearScreen } from "./screens/programmes";
import { ProjectDetail, ProjectsScreen } from "./screens/projects";
import { ReportsScreen } from "./screens/reports";
import "./style.css";

const NAV: [string, Parameters<typeof t>[0]][] = [
  ["nominations", "nav_nominations"],
  ["programmes", "nav_programmes"],
  ["inbox", "nav_inbox"],
  ["projects", "nav_projects"],
  ["missions", "nav_missions"],
  ["people", "nav_people"],
  ["reports", "nav_reports"],
];

function SignIn(props: { onSession: (s: Session) => void; expired: boolean }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const oidc = config().oidc;
  const submit = (e: Event) => {
    e.preventDefault();
    try {
      props.onSession(storeToken(token));
    } catch (err) {
      setError(String((err as Error).message));
    }
  };
  return (
    <main id="main" class="signin">
      <h1>{t("app_title")}</h1>
      {props.expired && <p role="alert">{t("err_signed_out")}</p>}
      {oidc && (
        <button type="button" class="primary" onClick={() => void beginSignIn(location.hash)}>
          {t("sign_in_idp")}
        </button>
      )}
      <form onSubmit={submit} class="card">
        <h2>{t("sign_in_token")}</h2>
        <label for="token">{t("token_label")}</label>
        <textarea id="token" rows={4} value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        {error && <p role="alert">{error}</p>}
        <button type="submit">{t("sign_in")}</button>
      </form>
    </main>
  );
}

function Screen(props: { route: Route; session: Session }) {
  const { route, session } = props;
  const [name, id, sub] = route.parts;
  switch (name) {
    case "programmes":
      return <ProgrammeYearScreen route={route} />;
    case "inbox":
      return <InboxScreen session={session} />;
    case "projects":
      return id ? <ProjectDetail id={id} session={session} /> : <ProjectsScreen route={route} />;
    case "missions":
      if (id === "seminars" && sub) return <SeminarScreen id={sub} session={session} />;
      if (id === "education" && sub) return <EducationScreen id={sub} session={session} />;
      return <MissionsScreen route={route} />;
    case "people":
      return id ? <PersonScreen id={id} /> : <PeopleScreen route={route} />;
    case "reports":
      return <ReportsScreen route={route} />;
    default:
      return id ? (
        <NominationDetail id={id} session={session} />
      ) : (
        <NominationsScreen route={route} />
      );
  }
}

function App() {
  const [session, setSession] = useState<Session | null>(currentSession());
  const [expired, setExpired] = useState(false);
  const [, setLangTick] = useState(lang());
  const [wait, setWait] = useState<number | null>(null);
  const route = useRoute();
  useEffect(() => onRetryWait(setWait), []);
  useEffect(() => {
    const out = () => {
      signOut();
      setExpired(true);
      setSession(null);
    };
    window.addEventListener(SIGNED_OUT_EVENT, out);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, out);
  }, []);
  useEffect(() => {
    completeSignIn()
      .then((done) => {
        if (!done) return;
        setSession(done.session);
        if (done.returnTo) location.hash = done.returnTo;
      })
      .catch((e: unknown) => console.warn("sign-in", e));
  }, []);
  const switchLang = () => {
    setLang(lang() === "en" ? "ja" : "en");
    setLangTick(lang());
  };
  const langButton = (
    <button type="button" class="lang" lang={lang() === "en" ? "ja" : "en"} onClick={switchLang}
      title={t("language_label")}>
      {t("language")}
    </button>
  );
  if (!session) {
    return (
      <div key={lang()}>
        <header class="top">{langButton}</header>
        <SignIn onSession={(s) => (setExpired(false), setSession(s))} expired={expired} />
      </div>
    );
  }
  const current = route.parts[0] || "nominations";
  return (
    <div key={lang()} class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        {t("skip")}
      </a>
      <header class="top">
        <span class="brand">{t("app_title")}</span>
        <nav aria-label="main">
          {NAV.map(([path, key]) => (
            <a href={`#/${path}`} aria-current={current === path ? "page" : undefined}>
              {t(key)}
              {path === "inbox" && <InboxBadge />}
            </a>
          ))}
        </nav>
        <span class="who">
          {t("signed_in_as", { name: session.name, roles: session.roles.join(", ") })}
          {!can(session, "write") && <strong class="ro"> · {t("read_only")}</strong>}
        </span>
        {langButton}
        <button type="button" onClick={() => (signOut(), setSession(null))}>
          {t("sign_out")}
        </button>
      </header>
      {wait !== null && (
        <p class="notice" role="status">
          {t("err_waiting", { s: Math.ceil(wait) })}
        </p>
      )}
      <main id="main" tabIndex={-1}>
        <Screen route={route} session={session} />
      </main>
    </div>
  );
}

loadConfig()
  .then(() => {
    document.documentElement.lang = lang();
    render(<App />, document.getElementById("app")!);
  })
  .catch((e: unknown) => {
    document.getElementById("app")!.textContent = `The console could not start: ${String(e)}`;
  });
