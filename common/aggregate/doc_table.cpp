#include "common/aggregate/doc_table.hpp"

#include <limits>
#include <stdexcept>

#include "common/aggregate/search.hpp"
#include "common/http/problem.hpp"
#include "common/store/dialect.hpp"
#include "common/store/postgres.hpp"
#include "common/store/sqlite.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"

// The statements of the document tables. Most are the same text on both engines; what differs
// (reading a document member, the search index, the column types) is in the two sections below,
// one per engine.
namespace jilaf::aggregate {
namespace {

// ---- SQLite ----

std::string SqliteMember(const std::string& path) {
  return store::JsonText(store::Engine::kSqlite, "doc", path);
}

std::string SqliteArrayHas(const std::string& path) {
  return "EXISTS (SELECT 1 FROM json_each(doc, '$." + path + "') WHERE value = ?)";
}

// ---- PostgreSQL: documents are kept as text (so they are answered byte for byte as written)
// and read as jsonb; the search index is a tsvector with the `simple` configuration, since the
// words are folded before the engine sees them. ----

std::string PgMember(const std::string& path) {
  return store::JsonText(store::Engine::kPostgres, "doc", path);
}

// A member as an integer column, with a boolean as 1 or 0 (as on SQLite).
std::string PgIntegerMember(const std::string& path) {
  return store::JsonInteger(store::Engine::kPostgres, "doc", path);
}

std::string PgArrayHas(const std::string& path) {
  return "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE jsonb_typeof(doc::jsonb #> '" +
         store::PgJsonPath(path) + "') WHEN 'array' THEN doc::jsonb #> '" +
         store::PgJsonPath(path) + "' END) AS e(value) WHERE value = ?)";
}

// FTS5's expression as MatchExpression writes it ("a b" AND "word"*) as a tsquery:
// (a <-> b) & word:*. Terms hold letters and digits only.
std::string PgTsQuery(std::string_view match) {
  std::string out;
  std::size_t i = 0;
  while ((i = match.find('"', i)) != std::string_view::npos) {
    const std::size_t end = match.find('"', i + 1);
    if (end == std::string_view::npos) break;
    std::string phrase(match.substr(i + 1, end - i - 1));
    for (std::size_t space = 0; (space = phrase.find(' ', space)) != std::string::npos;) {
      phrase.replace(space, 1, " <-> ");
      space += 5;
    }
    const bool prefix = end + 1 < match.size() && match[end + 1] == '*';
    out += (out.empty() ? "" : " & ") + ("(" + phrase + (prefix ? ":*" : "") + ")");
    i = end + 1;
  }
  return out;
}

// "expert.id" -> "/expert/id"
nlohmann::json::json_pointer Pointer(const std::string& path) {
  std::string pointer = "/" + path;
  for (auto& c : pointer) {
    if (c == '.') c = '/';
  }
  return nlohmann::json::json_pointer(pointer);
}

void BindValue(store::Stmt& stmt, int index, const nlohmann::json& doc, const Column& column) {
  const auto pointer = Pointer(column.path);
  if (!doc.contains(pointer) || doc.at(pointer).is_null()) {
    stmt.Bind(index, nullptr);
    return;
  }
  const auto& value = doc.at(pointer);
  if (column.type == Column::Type::kInteger) {
    // A boolean member is kept as 1 or 0 (SQLite has no boolean type).
    stmt.Bind(index, value.is_boolean() ? std::int64_t{value.get<bool>() ? 1 : 0}
                                        : value.get<std::int64_t>());
  } else {
    stmt.Bind(index, value.get<std::string>());
  }
}

void BindFilter(store::Stmt& stmt, int index, const FilterValue& value) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    stmt.Bind(index, *text);
  } else {
    stmt.Bind(index, std::get<std::int64_t>(value));
  }
}

std::string SqlType(Column::Type type, store::Engine engine) {
  if (type == Column::Type::kText) return "TEXT";
  return engine == store::Engine::kPostgres ? "BIGINT" : "INTEGER";
}

std::string Member(store::Db& db, const std::string& path) {
  return db.engine() == store::Engine::kPostgres ? PgMember(path) : SqliteMember(path);
}

std::string ArrayHas(store::Db& db, const std::string& path) {
  return db.engine() == store::Engine::kPostgres ? PgArrayHas(path) : SqliteArrayHas(path);
}

// The search index's key column: the FTS5 table's rowid, the PostgreSQL table's seq.
std::string IndexKey(store::Db& db) { return std::string(db.Dialect("rowid", "seq")); }

}  // namespace

DocTable::DocTable(TableSpec spec) : spec_(std::move(spec)) {
  const std::string& t = spec_.name;
  select_doc_ = "SELECT doc FROM " + t + " WHERE id = ?";
  select_version_ = "SELECT version FROM " + t + " WHERE id = ?";
  select_stored_ = spec_.versioned ? "SELECT doc, version FROM " + t + " WHERE id = ?"
                                   : "SELECT doc, 0 FROM " + t + " WHERE id = ?";
  std::string names = spec_.versioned ? "id, version, doc, created_at, updated_at" : "id, doc";
  std::string marks = spec_.versioned ? "?, ?, ?, ?, ?" : "?, ?";
  std::string sets = spec_.versioned ? "version = ?, doc = ?, updated_at = ?" : "doc = ?";
  for (const auto& column : spec_.columns) {
    if (column.generated) continue;
    written_.push_back(&column);
    names += ", " + column.name;
    marks += ", ?";
    sets += ", " + column.name + " = ?";
  }
  insert_ = "INSERT INTO " + t + " (" + names + ") VALUES (" + marks + ")";
  update_ = "UPDATE " + t + " SET " + sets + " WHERE id = ?" +
            (spec_.versioned ? " AND version = ?" : "");
  delete_ = "DELETE FROM " + t + " WHERE id = ?";
}

namespace {

// On a PostgreSQL writer, a document read in a write stays locked until the commit.
bool LocksRows(const store::Db& db) {
  return db.postgres() != nullptr && db.postgres()->LocksReadRows();
}

}  // namespace

std::optional<nlohmann::json> DocTable::Find(store::Db& db, std::string_view id) const {
  return store::LoadJsonDoc(db, LocksRows(db) ? select_doc_ + " FOR UPDATE" : select_doc_,
                            std::string(id));
}

nlohmann::json DocTable::Get(store::Db& db, std::string_view id) const {
  auto doc = Find(db, id);
  if (!doc) throw http::ApiError::NotFound("no " + spec_.what + " with id " + std::string(id));
  return std::move(*doc);
}

std::optional<store::StoredDoc> DocTable::FindStored(store::Db& db, std::string_view id) const {
  return store::LoadStoredDoc(db, LocksRows(db) ? select_stored_ + " FOR UPDATE" : select_stored_,
                              std::string(id));
}

std::optional<std::int64_t> DocTable::VersionOf(store::Db& db, std::string_view id) const {
  if (!spec_.versioned) throw std::logic_error("table " + spec_.name + " is not versioned");
  auto stmt = db.Prepare(select_version_);
  stmt.Bind(1, id);
  if (!stmt.Step()) return std::nullopt;
  return stmt.Int(0);
}

void DocTable::Insert(store::Db& tx, const nlohmann::json& doc, const ExtraColumns& extra) const {
  std::string with_extra;
  if (!extra.empty()) {
    // "INSERT INTO t (a, b) VALUES (?, ?)" -> "INSERT INTO t (a, b, x) VALUES (?, ?, ?)"
    const auto values = insert_.find(") VALUES (");
    std::string names;
    std::string marks;
    for (const auto& [name, value] : extra) {
      names += ", " + name;
      marks += ", ?";
    }
    with_extra = insert_.substr(0, values) + names +
                 insert_.substr(values, insert_.size() - values - 1) + marks + ")";
  }
  auto stmt = tx.Prepare(extra.empty() ? insert_ : with_extra);
  int i = 1;
  stmt.Bind(i++, doc.at("id").get<std::string>());
  if (spec_.versioned) {
    stmt.Bind(2, doc.at("version").get<std::int64_t>())
        .Bind(3, doc.dump())
        .Bind(4, doc.at("created_at").get<std::string>())
        .Bind(5, doc.at("updated_at").get<std::string>());
    i = 6;
  } else {
    stmt.Bind(i++, doc.dump());
  }
  for (const auto* column : written_) BindValue(stmt, i++, doc, *column);
  for (const auto& [name, value] : extra) stmt.Bind(i++, value);
  stmt.Run();
  Index(tx, doc, false);
}

void DocTable::Update(store::Db& tx, nlohmann::json& doc) const {
  const std::int64_t read_at = spec_.versioned ? doc.at("version").get<std::int64_t>() : 0;
  if (spec_.versioned) {
    doc["version"] = read_at + 1;
    doc["updated_at"] = util::NowRfc3339();
  }
  auto stmt = tx.Prepare(update_);
  int i = 1;
  if (spec_.versioned) {
    stmt.Bind(1, read_at + 1).Bind(2, doc.dump()).Bind(3, doc["updated_at"].get<std::string>());
    i = 4;
  } else {
    stmt.Bind(i++, doc.dump());
  }
  for (const auto* column : written_) BindValue(stmt, i++, doc, *column);
  stmt.Bind(i++, doc.at("id").get<std::string>());
  if (spec_.versioned) stmt.Bind(i++, read_at);
  stmt.Run();
  if (tx.Changes() == 0) {
    throw http::ApiError::PreconditionFailed("the " + spec_.what + " " +
                                             doc.at("id").get<std::string>() +
                                             " was changed by another request; read it again")
        .With("read_version", read_at);
  }
  Index(tx, doc, true);
}

bool DocTable::Delete(store::Db& tx, std::string_view id) const {
  if (!spec_.search.empty()) {
    if (const auto seq = SeqOf(tx, id)) {
      auto unindex = [this, seq = *seq](store::Db& db) {
        auto stmt =
            db.Prepare("DELETE FROM " + spec_.name + "_search WHERE " + IndexKey(db) + " = ?");
        stmt.Bind(1, seq);
        stmt.Run();
      };
      if (spec_.index_at_batch_end) {
        tx.AtBatchEnd(std::move(unindex));
      } else {
        unindex(tx);
      }
    }
  }
  auto stmt = tx.Prepare(delete_);
  stmt.Bind(1, id);
  stmt.Run();
  return tx.Changes() > 0;
}

std::string DocTable::Predicate(store::Db& db, const Filters& filters,
                                std::vector<FilterValue>& values) const {
  std::string sql;
  for (const auto& [name, value] : filters) {
    if (std::holds_alternative<std::monostate>(value)) continue;
    const Column* column = nullptr;
    for (const auto& c : spec_.columns) {
      if (c.name == name) column = &c;
    }
    if (column != nullptr) {
      sql += " AND " + column->name + " = ?";
      values.push_back(value);
      continue;
    }
    const Filter* filter = nullptr;
    for (const auto& f : spec_.filters) {
      if (f.name == name) filter = &f;
    }
    if (filter == nullptr) {
      throw std::invalid_argument("table " + spec_.name + " declares no filter " + name);
    }
    std::string any;
    for (const auto& field : filter->fields) {
      any += any.empty() ? "" : " OR ";
      if (field.size() > 2 && field.ends_with("[]")) {
        any += ArrayHas(db, field.substr(0, field.size() - 2));
      } else if (db.engine() == store::Engine::kPostgres &&
                 std::holds_alternative<std::int64_t>(value)) {
        any += PgIntegerMember(field) + " = ?";
      } else {
        any += Member(db, field) + " = ?";
      }
      values.push_back(value);
    }
    sql += " AND (" + any + ")";
  }
  return sql;
}

std::vector<nlohmann::json> DocTable::Where(store::Db& db, const Filters& filters) const {
  std::vector<FilterValue> values;
  auto stmt = db.Prepare("SELECT doc FROM " + spec_.name + " WHERE true" +
                         Predicate(db, filters, values) + " ORDER BY seq");
  for (std::size_t i = 0; i < values.size(); ++i) {
    BindFilter(stmt, static_cast<int>(i + 1), values[i]);
  }
  std::vector<nlohmann::json> out;
  while (stmt.Step()) out.push_back(nlohmann::json::parse(stmt.Text(0)));
  return out;
}

std::int64_t DocTable::Count(store::Db& db, const Filters& filters) const {
  std::vector<FilterValue> values;
  auto stmt = db.Prepare("SELECT count(*) FROM " + spec_.name + " WHERE true" +
                         Predicate(db, filters, values));
  for (std::size_t i = 0; i < values.size(); ++i) {
    BindFilter(stmt, static_cast<int>(i + 1), values[i]);
  }
  return stmt.Step() ? stmt.Int(0) : 0;
}

nlohmann::json DocTable::List(store::Db& db, const http::PageRequest& page,
                              const Filters& filters) const {
  std::vector<FilterValue> values;
  auto stmt = db.Prepare("SELECT seq, doc FROM " + spec_.name + " WHERE seq > ?" +
                         Predicate(db, filters, values) + " ORDER BY seq LIMIT ?");
  int i = 1;
  stmt.Bind(i++, page.after.value_or(0));
  for (const auto& value : values) BindFilter(stmt, i++, value);
  stmt.Bind(i++, page.page_size + 1);
  return http::CollectPage(stmt, page.page_size);
}

std::optional<std::int64_t> DocTable::SeqOf(store::Db& tx, std::string_view id) const {
  auto stmt = tx.Prepare("SELECT seq FROM " + spec_.name + " WHERE id = ?");
  stmt.Bind(1, id);
  if (!stmt.Step()) return std::nullopt;
  return stmt.Int(0);
}

void DocTable::Index(store::Db& tx, const nlohmann::json& doc, bool replace) const {
  if (spec_.search.empty()) return;
  std::string terms = SearchText(doc, spec_.search);
  if (spec_.search_related) {
    terms += " " + SearchText({{"related", spec_.search_related(tx, doc)}}, {"related"});
  }
  std::string restricted = SearchText(doc, spec_.search_restricted);
  // The row's seq as this job sees it: the index rows belong to it even when they are written
  // after later jobs of the batch (index_at_batch_end).
  const auto seq = SeqOf(tx, doc.at("id").get<std::string>());
  if (!seq) return;
  auto write = [this, seq = *seq, replace, terms = std::move(terms),
                restricted = std::move(restricted)](store::Db& db) {
    const std::string index = spec_.name + "_search";
    if (replace) {
      auto unindex = db.Prepare("DELETE FROM " + index + " WHERE " + IndexKey(db) + " = ?");
      unindex.Bind(1, seq);
      unindex.Run();
    }
    auto stmt = db.Prepare(
        "INSERT INTO " + index + "(" + IndexKey(db) + ", terms, restricted) VALUES (?1, " +
        std::string(db.Dialect("?2, ?3", "to_tsvector('simple', ?2), to_tsvector('simple', ?3)")) +
        ")");
    stmt.Bind(1, seq).Bind(2, terms).Bind(3, restricted);
    stmt.Run();
  };
  if (spec_.index_at_batch_end) {
    tx.AtBatchEnd(std::move(write));
  } else {
    write(tx);
  }
}

std::int64_t DocTable::IndexMissing(store::Db& tx) const {
  if (spec_.search.empty()) return 0;
  std::vector<nlohmann::json> missing;
  {
    auto stmt = tx.Prepare("SELECT doc FROM " + spec_.name + " WHERE seq NOT IN (SELECT " +
                           IndexKey(tx) + " FROM " + spec_.name + "_search) ORDER BY seq");
    while (stmt.Step()) missing.push_back(nlohmann::json::parse(stmt.Text(0)));
  }
  for (const auto& doc : missing) Index(tx, doc, false);
  return static_cast<std::int64_t>(missing.size());
}

std::string DocTable::SearchSql() const { return SearchSql(store::Engine::kSqlite); }

std::string DocTable::SearchSql(store::Engine engine) const {
  const std::string index = spec_.name + "_search";
  if (engine == store::Engine::kPostgres) {
    return "CREATE TABLE " + index +
           " (seq BIGINT PRIMARY KEY, terms tsvector NOT NULL, restricted tsvector NOT NULL);"
           "CREATE INDEX " +
           index + "_all ON " + index + " USING gin ((terms || restricted));CREATE INDEX " + index +
           "_terms ON " + index + " USING gin (terms);";
  }
  // The words are folded before they reach the engine, so its tokenizer only splits at spaces.
  return "CREATE VIRTUAL TABLE " + index +
         " USING fts5(terms, restricted, tokenize = 'unicode61 remove_diacritics 0');";
}

nlohmann::json DocTable::Search(store::Db& db, const SearchPage& search,
                                const Filters& filters) const {
  if (spec_.search.empty()) {
    throw std::invalid_argument("table " + spec_.name + " declares no search paths");
  }
  std::vector<FilterValue> values;
  const std::string& t = spec_.name;
  const bool pg = db.engine() == store::Engine::kPostgres;
  // Newest first on both engines. On SQLite the full-text index walks its rowids downwards and
  // stops when the page is full; a ranked order would score every match before the LIMIT.
  const std::string vector = search.masked ? "s.terms" : "(s.terms || s.restricted)";
  const std::string sql =
      pg ? "SELECT " + t + ".seq, " + t + ".doc FROM " + t + "_search s JOIN " + t + " ON " + t +
               ".seq = s.seq WHERE " + vector + " @@ to_tsquery('simple', ?) AND s.seq < ?" +
               Predicate(db, filters, values) + " ORDER BY s.seq DESC LIMIT ?"
         : "SELECT " + t + ".seq, " + t + ".doc FROM " + t + "_search JOIN " + t + " ON " + t +
               ".seq = " + t + "_search.rowid WHERE " + t + "_search MATCH ? AND " + t +
               "_search.rowid < ?" + Predicate(db, filters, values) + " ORDER BY " + t +
               "_search.rowid DESC LIMIT ?";
  auto stmt = db.Prepare(sql);
  int i = 1;
  if (pg) {
    stmt.Bind(i++, PgTsQuery(search.match));
  } else {
    stmt.Bind(i++, search.masked ? "{terms} : (" + search.match + ")" : search.match);
  }
  stmt.Bind(i++, search.before > 0 ? search.before : std::numeric_limits<std::int64_t>::max());
  for (const auto& value : values) BindFilter(stmt, i++, value);
  stmt.Bind(i, search.page_size + 1);
  // The next page holds the matches older than this page's last one, bound to the search's
  // words and filters (a list's token, which resumes after a seq, is not accepted here).
  std::int64_t last = 0;
  auto page = http::CollectPage(stmt, search.page_size, [&last](store::Stmt& row) {
    last = row.Int(0);
    return nlohmann::json::parse(row.Text(1));
  });
  if (page.contains("next_page_token")) page["next_page_token"] = SearchPageToken(search, last);
  return page;
}

std::string DocTable::Location(const nlohmann::json& doc) const {
  return spec_.collection + "/" + doc.at("id").get<std::string>();
}

std::string DocTable::ScanSql() const {
  return "SELECT seq, doc FROM " + spec_.name + " WHERE seq > ?1 ORDER BY seq LIMIT ?2";
}

std::string DocTable::CreateSql() const { return CreateSql(store::Engine::kSqlite); }

std::string DocTable::CreateSql(store::Engine engine) const {
  const bool pg = engine == store::Engine::kPostgres;
  std::string sql = "CREATE TABLE " + spec_.name + " (seq " +
                    (pg ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                        : "INTEGER PRIMARY KEY AUTOINCREMENT") +
                    ", id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL" +
                    (spec_.versioned ? ", version " + SqlType(Column::Type::kInteger, engine) +
                                           " NOT NULL, created_at TEXT NOT NULL,"
                                           " updated_at TEXT NOT NULL"
                                     : "");
  for (const auto& column : spec_.columns) {
    sql += ", " + column.name + " " + SqlType(column.type, engine);
    if (column.generated) {
      sql += pg ? " GENERATED ALWAYS AS (" +
                      (column.type == Column::Type::kInteger ? PgIntegerMember(column.path)
                                                             : PgMember(column.path)) +
                      ") STORED"
                : " GENERATED ALWAYS AS (" + SqliteMember(column.path) + ") VIRTUAL";
    }
  }
  sql += ");";
  if (!spec_.search.empty()) sql += SearchSql(engine);
  for (const auto& column : spec_.columns) {
    sql += "CREATE INDEX " + spec_.name + "_" + column.name + " ON " + spec_.name + "(" +
           column.name + ");";
  }
  return sql;
}

void Stamp(nlohmann::json& doc, std::string_view by) {
  const std::string now = util::NowRfc3339();
  doc["id"] = util::NewTimeOrderedUuid();
  doc["version"] = 1;
  doc["created_at"] = now;
  doc["updated_at"] = now;
  if (!by.empty()) doc["created_by"] = std::string(by);
}

}  // namespace jilaf::aggregate
