// Small pieces every screen uses: loading a resource, explaining an API error, bars, tables.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError } from "./api";
import { countryName, formatDate, number, state, t, yen } from "./i18n";

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/// Runs `load` when the dependencies change and on reload(); keeps the last answer.
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load()
      .then((value) => live && (setData(value), setError(null)))
      .catch((e: unknown) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}

/// An API error in words: which limit a 409 names, a reload offered on 412.
export function explain(error: unknown): string {
  if (!(error instanceof ApiError)) return String((error as Error)?.message ?? error);
  const p = error.problem;
  switch (error.kind()) {
    case "capacity-exceeded": {
      const n = String(p.quota ?? p.seats ?? "");
      const limit =
        p.limit === "country_quota"
          ? t("err_capacity_country", { n, country: countryName(String(p.country ?? "")) })
          : p.limit === "region_quota"
            ? t("err_capacity_region", { n, region: String(p.region ?? "") })
            : t("err_capacity_seats", { n: String(p.seats ?? p.quota ?? "") });
      return t("err_capacity", { limit });
    }
    case "precondition-failed":
      return t("err_stale");
    case "unauthorized":
      return t("err_signed_out");
    case "forbidden":
      return t("err_forbidden");
    case "invalid-transition":
      return t("err_transition", {
        allowed: ((p.allowed_transitions as string[]) ?? []).map(state).join(", "),
      });
    case "report-outstanding":
      return t("err_report_outstanding", {
        date: formatDate(String(p.report_due_date ?? "")),
        status: state(String(p.report_status ?? "")),
      });
    case "budget-exceeded":
      return t("err_budget", { remaining: yen(Number(p.remaining_jpy ?? 0)) });
    default:
      return t("err_generic", { detail: p.detail ?? p.title ?? String(error.status) });
  }
}

export function ErrorBanner(props: { error: unknown; onReload?: () => void }) {
  if (!props.error) return null;
  const stale = props.error instanceof ApiError && props.error.status === 412;
  return (
    <div class="error" role="alert">
      <span>{explain(props.error)}</span>
      {stale && props.onReload && (
        <button type="button" onClick={props.onReload}>
          {t("err_stale_action")}
        </button>
      )}
    </div>
  );
}

export function Loading(props: { loaded: Loaded<unknown> }) {
  if (props.loaded.error) return <ErrorBanner error={props.loaded.error} />;
  if (props.loaded.loading && !props.loaded.data) return <p aria-live="polite">{t("loading")}</p>;
  return null;
}

/// A horizontal bar: value of max, with the figure as text for screen readers and print.
export function Bar(props: { value: number; max: number; label: string; money?: boolean; tone?: string }) {
  const pct = props.max > 0 ? Math.min(100, (props.value / props.max) * 100) : 0;
  const figure = props.money ? yen(props.value) : number(props.value);
  const whole = props.money ? yen(props.max) : number(props.max);
  return (
    <div class="bar-row">
      <span class="bar-label">{props.label}</span>
      <span
        class="bar"
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={props.max}
        aria-valuenow={props.value}
      >
        <span class={`bar-fill ${props.tone ?? ""}`} style={{ width: `${pct}%` }} />
      </span>
      <span class="bar-figure">
        {figure} / {whole}
      </span>
    </div>
  );
}

/// The moves a record's state allows, one button each (data-to names the target state).
export function Moves(props: { moves: string[]; onMove: (to: string) => void; cell?: boolean }) {
  const buttons = props.moves.map((to) => (
    <button type="button" data-to={to} onClick={() => props.onMove(to)}>
      {state(to)}
    </button>
  ));
  return props.cell ? <td class="actions">{buttons}</td> : <div class="actions">{buttons}</div>;
}

/// A table's header row.
export function Head(props: { columns: (string | false)[] }) {
  return (
    <thead>
      <tr>
        {props.columns.filter((c): c is string => c !== false).map((c) => (
          <th scope="col">{c}</th>
        ))}
      </tr>
    </thead>
  );
}

export function Badge(props: { status: string }) {
  return <span class={`badge s-${props.status}`}>{state(props.status)}</span>;
}

export function Section(props: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section aria-labelledby={props.id} class="card">
      <h2 id={props.id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

export const SEAT_HOLDING = new Set([
  "selected",
  "invited",
  "visa_applied",
  "visa_granted",
  "travel_booked",
  "arrived",
  "completed",
]);

/// Withheld from this reader: absent, or masked whole ("***"). A partly masked value
/// ("*****567") is shown as the service sent it.
export function masked(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && /^\*+$/.test(value));
}
