// The inbox: the caller's notifications, unread first, marked read or unread, polled.
import { useEffect, useState } from "preact/hooks";
import { call, get, getAll, type Page } from "../api";
import type { Session } from "../auth";
import { config } from "../config";
import { formatDateTime, t } from "../i18n";
import { ErrorBanner, Loading, Section, useLoad } from "../ui";

interface InboxItem {
  id: string;
  title: string;
  body: string;
  read: boolean;
  created_at: string;
  event?: { type?: string; subject?: string };
}

/// Re-runs `tick` every poll interval while the page is visible.
function usePoll(tick: () => void) {
  useEffect(() => {
    const every = Math.max(1, config().inbox_poll_seconds) * 1000;
    const timer = setInterval(() => document.visibilityState === "visible" && tick(), every);
    return () => clearInterval(timer);
  }, []);
}

export function InboxBadge() {
  const unread = useLoad(
    () => get<Page<InboxItem>>("notifications", "/v1/inbox?unread=true&page_size=100").then((a) => a.data.items.length),
    [],
  );
  usePoll(unread.reload);
  if (!unread.data) return null;
  return (
    <span class="count" aria-label={t("unread_count", { n: unread.data })}>
      {unread.data >= 100 ? "99+" : unread.data}
    </span>
  );
}

export function InboxScreen(_props: { session: Session }) {
  // Unread first: the newest 200 unread items, then the latest read ones.
  const loaded = useLoad(
    () =>
      Promise.all([
        getAll<InboxItem>("notifications", "/v1/inbox?unread=true", 200),
        get<Page<InboxItem>>("notifications", "/v1/inbox?page_size=50").then((a) => a.data.items),
      ]).then(([unread, latest]) => [...unread, ...latest.filter((i) => i.read)]),
    [],
  );
  const [error, setError] = useState<unknown>(null);
  usePoll(loaded.reload);
  const mark = async (item: InboxItem) => {
    try {
      await call("notifications", item.read ? "DELETE" : "POST", `/v1/inbox/${item.id}/read`);
      loaded.reload();
    } catch (e) {
      setError(e);
    }
  };
  const items = [...(loaded.data ?? [])].sort(
    (a, b) => Number(a.read) - Number(b.read) || b.created_at.localeCompare(a.created_at),
  );
  const unread = items.filter((i) => !i.read).length;
  return (
    <>
      <h1>{t("nav_inbox")}</h1>
      <p aria-live="polite" data-testid="unread">
        {t("unread_count", { n: unread })}
      </p>
      <ErrorBanner error={error} />
      <Loading loaded={loaded} />
      <Section title={t("nav_inbox")} id="inbox-list">
        {items.length === 0 && <p>{t("none")}</p>}
        <ul class="inbox">
          {items.map((item) => (
            <li class={item.read ? "read" : "unread"} data-event={item.event?.type ?? ""} data-subject={item.event?.subject ?? ""}>
              <div>
                <strong>{item.title}</strong>
                <span class="muted"> · {formatDateTime(item.created_at)}</span>
                {!item.read && <span class="pill">{t("inbox_unread")}</span>}
              </div>
              <p>{item.body}</p>
              <button type="button" onClick={() => void mark(item)}>
                {item.read ? t("mark_unread") : t("mark_read")}
              </button>
            </li>
          ))}
        </ul>
      </Section>
    </>
  );
}
