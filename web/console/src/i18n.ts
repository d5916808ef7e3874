// Japanese and English: the words of every screen, and dates, yen and names as each reader
// expects them. The language is remembered in localStorage.
import { config } from "./config";

export type Lang = "en" | "ja";
const LANG_KEY = "jilaf.console.lang";

let current: Lang = (localStorage.getItem(LANG_KEY) as Lang | null) ?? "en";
if (current !== "en" && current !== "ja") current = "en";

export const lang = (): Lang => current;
export function setLang(next: Lang): void {
  current = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
}

const en = {
  app_title: "JILAF console",
  skip: "Skip to content",
  nav_nominations: "Nominations",
  nav_programmes: "Programme year",
  nav_inbox: "Inbox",
  nav_projects: "Projects",
  nav_missions: "Missions",
  nav_people: "People",
  nav_reports: "Reports",
  language: "日本語",
  language_label: "Switch the language to Japanese",
  sign_in: "Sign in",
  sign_in_idp: "Sign in with the identity provider",
  sign_in_token: "Development sign-in",
  token_label: "Token (from scripts/token)",
  sign_out: "Sign out",
  signed_in_as: "Signed in as {name} ({roles})",
  read_only: "Read only",
  loading: "Loading…",
  none: "Nothing here.",
  search: "Search",
  search_label: "Search by name",
  status: "Status",
  all: "All",
  fiscal_year: "Fiscal year",
  programme: "Programme",
  nationality: "Nationality",
  name: "Name",
  organisation: "Organisation",
  union: "Union",
  email: "E-mail",
  position: "Position",
  passport: "Passport",
  date_of_birth: "Date of birth",
  next_page: "Next page",
  first_page: "First page",
  back: "Back",
  reload: "Reload",
  cancel: "Cancel",
  confirm: "Confirm",
  reason: "Reason",
  reason_needed: "Give a reason for this change",
  history: "Status history",
  transitions: "Actions",
  no_transitions: "No action is possible in this state.",
  waitlist: "Waitlist",
  rank: "Rank",
  letters: "Letters",
  invitation_letter: "Invitation letter",
  guarantor_letter: "Guarantor letter",
  letters_when: "Letters exist from selection until travel is booked.",
  disclosure_reason: "Why the full passport number is needed (recorded)",
  guarantor_full: "Guarantor letter with the full passport number",
  disclosures: "Passport number disclosures",
  logistics: "Logistics",
  arrival: "Arrival",
  departure: "Departure",
  hotel: "Hotel",
  no_logistics: "No travel details yet.",
  seats: "Seats",
  seats_used: "{used} of {seats} seats",
  quota_country: "Country quotas",
  quota_region: "Region quotas",
  country: "Country",
  region: "Region",
  used: "Used",
  quota: "Quota",
  dates: "Dates",
  track: "Track",
  inbox_unread: "Unread",
  inbox_read: "Read",
  mark_read: "Mark read",
  mark_unread: "Mark unread",
  unread_count: "{n} unread",
  budget: "Budget",
  committed: "Committed",
  disbursed: "Disbursed",
  tranches: "Tranches",
  reports: "Reports",
  indicators: "Indicators",
  amount: "Amount",
  planned_date: "Planned",
  due_date: "Due",
  held_by: "Held by report due {date} ({status})",
  overdue: "Overdue",
  baseline: "Baseline",
  target: "Target",
  latest: "Latest",
  seminars: "Seminars",
  missions: "Missions",
  education: "Education programmes",
  capacity: "Capacity",
  registrations: "Registrations",
  registered: "Registered",
  waitlisted: "Waitlisted",
  attendance: "Attendance",
  present: "Present",
  certificates: "Certificates",
  people_search: "Find a person",
  timeline: "History",
  service: "Service",
  when: "When",
  what: "What",
  open: "Open",
  fy_report: "Fiscal-year report",
  download_csv: "Download CSV",
  chart_invitations: "Nominations by country",
  chart_projects: "Yen committed and disbursed by area",
  chart_missions: "Seminars and programmes",
  nominated: "Nominated",
  selected: "Selected",
  completed: "Completed",
  err_capacity: "Refused: the {limit} is full.",
  err_capacity_seats: "programme's {n} seats",
  err_capacity_country: "quota of {n} for {country}",
  err_capacity_region: "quota of {n} for the region {region}",
  err_stale: "Someone changed this record since you opened it.",
  err_stale_action: "Reload the record",
  err_waiting: "The service is busy: trying again in {s} s.",
  err_signed_out: "Your sign-in has expired. Sign in again.",
  err_forbidden: "Your role does not allow this.",
  err_transition: "Not allowed from this state. Possible: {allowed}.",
  err_report_outstanding: "Held: the progress report due {date} is {status}.",
  err_budget: "Over budget: {remaining} of the budget remains.",
  err_generic: "The service refused: {detail}",
  masked: "(masked)",
  promoted: "Promoted from the waitlist: {names}",
  done: "Done.",
};

type Key = keyof typeof en;

const ja: Record<Key, string> = {
  app_title: "JILAF 業務コンソール",
  skip: "本文へ移動",
  nav_nominations: "推薦",
  nav_programmes: "年度の招へい事業",
  nav_inbox: "受信箱",
  nav_projects: "プロジェクト",
  nav_missions: "ミッション",
  nav_people: "人物",
  nav_reports: "報告",
  language: "English",
  language_label: "言語を英語に切り替える",
  sign_in: "サインイン",
  sign_in_idp: "認証基盤でサインイン",
  sign_in_token: "開発用サインイン",
  token_label: "トークン（scripts/token で発行）",
  sign_out: "サインアウト",
  signed_in_as: "{name}（{roles}）でサインイン中",
  read_only: "閲覧のみ",
  loading: "読み込み中…",
  none: "該当なし",
  search: "検索",
  search_label: "氏名で検索",
  status: "状態",
  all: "すべて",
  fiscal_year: "年度",
  programme: "事業",
  nationality: "国籍",
  name: "氏名",
  organisation: "団体",
  union: "労働組合",
  email: "メール",
  position: "役職",
  passport: "旅券",
  date_of_birth: "生年月日",
  next_page: "次のページ",
  first_page: "最初のページ",
  back: "戻る",
  reload: "再読み込み",
  cancel: "取消",
  confirm: "確定",
  reason: "理由",
  reason_needed: "この変更の理由を入力してください",
  history: "状態の履歴",
  transitions: "操作",
  no_transitions: "この状態で可能な操作はありません。",
  waitlist: "補欠",
  rank: "順位",
  letters: "書類",
  invitation_letter: "招へい状",
  guarantor_letter: "身元保証書",
  letters_when: "書類は選考から航空券手配まで作成できます。",
  disclosure_reason: "旅券番号の全桁が必要な理由（記録されます）",
  guarantor_full: "旅券番号全桁入りの身元保証書",
  disclosures: "旅券番号の開示記録",
  logistics: "渡航手配",
  arrival: "到着",
  departure: "出発",
  hotel: "宿泊",
  no_logistics: "渡航情報はまだありません。",
  seats: "定員",
  seats_used: "定員 {seats} 席中 {used} 席",
  quota_country: "国別枠",
  quota_region: "地域枠",
  country: "国",
  region: "地域",
  used: "使用",
  quota: "枠",
  dates: "日程",
  track: "区分",
  inbox_unread: "未読",
  inbox_read: "既読",
  mark_read: "既読にする",
  mark_unread: "未読に戻す",
  unread_count: "未読 {n} 件",
  budget: "予算",
  committed: "承認済み",
  disbursed: "支出済み",
  tranches: "支払",
  reports: "報告書",
  indicators: "指標",
  amount: "金額",
  planned_date: "予定日",
  due_date: "期限",
  held_by: "{date} 期限の報告書（{status}）により保留",
  overdue: "期限超過",
  baseline: "基準値",
  target: "目標",
  latest: "最新",
  seminars: "セミナー",
  missions: "ミッション",
  education: "教育プログラム",
  capacity: "定員",
  registrations: "申込",
  registered: "登録",
  waitlisted: "補欠",
  attendance: "出席",
  present: "出席",
  certificates: "修了証",
  people_search: "人物を探す",
  timeline: "経歴",
  service: "サービス",
  when: "日時",
  what: "内容",
  open: "開く",
  fy_report: "年度報告",
  download_csv: "CSV をダウンロード",
  chart_invitations: "国別の推薦",
  chart_projects: "分野別の承認額と支出額（円）",
  chart_missions: "セミナーと教育プログラム",
  nominated: "推薦",
  selected: "選考",
  completed: "修了",
  err_capacity: "受付できません：{limit}が上限に達しています。",
  err_capacity_seats: "事業の定員 {n} 席",
  err_capacity_country: "{country} の国別枠 {n} 席",
  err_capacity_region: "地域 {region} の枠 {n} 席",
  err_stale: "開いた後にこの記録が変更されました。",
  err_stale_action: "記録を再読み込み",
  err_waiting: "サービスが混雑しています。{s} 秒後に再試行します。",
  err_signed_out: "サインインの有効期限が切れました。もう一度サインインしてください。",
  err_forbidden: "この操作の権限がありません。",
  err_transition: "この状態からはできません。可能な操作：{allowed}",
  err_report_outstanding: "保留中：{date} 期限の進捗報告書が「{status}」です。",
  err_budget: "予算超過：残りは {remaining} です。",
  err_generic: "サービスが拒否しました：{detail}",
  masked: "（非表示）",
  promoted: "補欠から繰り上げ：{names}",
  done: "完了しました。",
};

const words = { en, ja };

export function t(key: Key, params: Record<string, string | number> = {}): string {
  return words[current][key].replace(/\{(\w+)\}/g, (_, name: string) =>
    String(params[name] ?? `{${name}}`),
  );
}

// Record states, by language (the API's words are the English fallback).
const stateJa: Record<string, string> = {
  submitted: "提出済み", screened: "審査済み", selected: "選考済み", waitlisted: "補欠",
  rejected: "不採用", invited: "招へい状送付", visa_applied: "査証申請中", visa_granted: "査証取得",
  visa_denied: "査証拒否", travel_booked: "航空券手配済み", arrived: "到着", completed: "修了",
  withdrawn: "辞退", no_show: "不参加", programme_cancelled: "事業中止", draft: "下書き",
  open: "募集中", selection: "選考中", confirmed: "確定", running: "実施中", cancelled: "中止",
  proposed: "提案", under_review: "審査中", approved: "承認", active: "実施中",
  suspended: "停止", closed: "終了", planned: "予定", requested: "請求済み", paid: "支払済み",
  due: "未提出", submitted_report: "提出済み", returned: "差戻し", in_progress: "実施中",
  reported: "報告済み", registration_open: "受付中", registration_closed: "受付終了",
  held: "開催済み", registered: "登録", cancelled_registration: "取消",
  africa: "アフリカ", asia: "アジア", europe: "ヨーロッパ", latin_america_caribbean: "中南米・カリブ",
  northern_america: "北米", oceania: "オセアニア", developing: "開発途上国", industrialized: "先進国",
};

export function state(name: string): string {
  if (current === "ja") return stateJa[name] ?? name;
  return name.replace(/_/g, " ");
}

export function formatDate(value: string | undefined | null): string {
  if (!value) return "";
  // A plain date is a calendar day: shown as it is, never moved across a time zone.
  const plain = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const date = new Date(plain ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(current === "ja" ? "ja-JP" : "en-GB", {
    timeZone: plain ? "UTC" : config().time_zone,
    year: "numeric",
    month: "short",
    day: "numeric",
  }).format(date);
}

export function formatDateTime(value: string | undefined | null): string {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(current === "ja" ? "ja-JP" : "en-GB", {
    timeZone: config().time_zone,
    dateStyle: "medium",
    timeStyle: "short",
  }).format(date);
}

export function yen(amount: number | undefined | null): string {
  if (amount === undefined || amount === null) return "";
  return new Intl.NumberFormat(current === "ja" ? "ja-JP" : "en-GB", {
    style: "currency",
    currency: "JPY",
  }).format(amount);
}

export function number(value: number): string {
  return new Intl.NumberFormat(current === "ja" ? "ja-JP" : "en-GB").format(value);
}

export function countryName(code: string): string {
  try {
    const names = new Intl.DisplayNames([current === "ja" ? "ja" : "en"], { type: "region" });
    return names.of(code) ?? code;
  } catch {
    return code;
  }
}

// Where the family name comes first in the person's own culture.
const FAMILY_FIRST = new Set(["VN", "CN", "TW", "HK", "JP", "KR", "KP", "KH", "HU", "MN", "SG"]);

export interface PersonName {
  family_name?: string;
  given_name?: string;
  native_name?: string;
  katakana_name?: string;
  nationality?: string;
}

/// A name as its culture orders it; in Japanese the katakana reading first when there is one.
export function personName(p: PersonName | undefined | null): string {
  if (!p) return "";
  const family = p.family_name ?? "";
  const given = p.given_name ?? "";
  const latin = FAMILY_FIRST.has(p.nationality ?? "")
    ? `${family} ${given}`.trim()
    : `${given} ${family}`.trim();
  if (current === "ja" && p.katakana_name) return `${p.katakana_name}（${latin}）`;
  if (p.native_name && p.native_name !== latin) return `${latin} (${p.native_name})`;
  return latin;
}

export function title(text: { ja?: string; en?: string } | string | undefined): string {
  if (!text) return "";
  if (typeof text === "string") return text;
  return (current === "ja" ? text.ja : text.en) ?? text.en ?? text.ja ?? "";
}
