#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"

namespace jilaf::store {
class Db;
enum class Engine;
}  // namespace jilaf::store

// The one way a service keeps its records: a table of JSON documents, each row holding one
// document with its id, version and timestamps, plus filter columns declared once. The services
// say *what* a table holds (its columns and filters, as document paths); the statements are
// written here, in one place per engine, so no service writes INSERT/UPDATE/keyset SQL of its own.
namespace jilaf::aggregate {

/// A column kept beside the document so that lists can filter and sort on it with an index.
struct Column {
  enum class Type { kText, kInteger };
  std::string name;         // column name (a constant of the service, never client input)
  std::string path;         // where its value lives in the document: "status", "expert.id"
  Type type = Type::kText;  // kInteger also holds a boolean member, as 1 or 0
  /// True when the engine computes it from the document (a generated column): the layer never
  /// writes it. False when the layer copies it from the document on every insert and update.
  bool generated = false;
};

/// A filter a list accepts: equality on a declared column of the same name, else on any of the
/// document `fields` (a field ending in "[]" is an array: any element may match).
struct Filter {
  std::string name;
  std::vector<std::string> fields;
};

/// What one table holds.
struct TableSpec {
  std::string name;        // SQL table name
  std::string what;        // for messages: "tranche", "education programme"
  std::string collection;  // where its documents live: "/v1/tranches" (Location: .../<id>)
  std::vector<Column> columns;
  std::vector<Filter> filters;
  bool versioned = true;  // has `version`, `created_at`, `updated_at` columns
  /// Document paths whose text a search (`q=`) matches: "candidate.family_name", "title" (every
  /// string inside), "participants[].name" (every element). Empty: the table is not searchable.
  /// The words are folded (util::SearchWords) into a full-text index kept by Insert, Update and
  /// Delete in the same transaction as the document.
  std::vector<std::string> search = {};
  /// Paths searched only for callers who see the whole record (a viewer's masked view lacks
  /// them, so a viewer's search must not match on them either).
  std::vector<std::string> search_restricted = {};
  /// Words from related records that a search of this table also matches (a project found by
  /// its partner's name), read in the writing transaction; may be empty. Whoever changes the
  /// related record re-indexes the documents that name it (IndexDocument).
  std::function<std::string(store::Db& tx, const nlohmann::json& doc)> search_related = {};
  /// The full-text index's rows are written at the end of the writer's batch (Db::AtBatchEnd),
  /// still in its transaction: one FTS5 segment per batch instead of one per document. Whoever
  /// runs an FTS5 'optimize' on this table after changing it queues that there too.
  bool index_at_batch_end = false;
};

/// A search as a list route reads it (aggregate/search.hpp): the full-text expression, the page
/// and the fingerprint that ties page tokens to this query.
struct SearchPage {
  std::string match;
  std::int64_t page_size = 50;
  std::int64_t before = 0;  // the page holds matches older than this seq; 0: from the newest
  std::string fingerprint;
  bool masked = false;  // the caller sees a masked view: match only TableSpec::search
};

/// A filter value bound by a list: text, an integer, or absent (no filtering).
using FilterValue = std::variant<std::monostate, std::string, std::int64_t>;
/// Filter name -> value; unknown names are a programming error (std::invalid_argument).
using Filters = std::vector<std::pair<std::string, FilterValue>>;

/// Columns of a row that are not in its document (a blind index): name -> value (NULL when
/// absent). The names are constants of the service, never client input.
using ExtraColumns = std::vector<std::pair<std::string, std::optional<std::string>>>;

/// Turns an optional query value into a FilterValue.
template <typename T>
FilterValue Maybe(const std::optional<T>& value) {
  if (!value) return std::monostate{};
  return FilterValue(*value);
}

class DocTable {
 public:
  explicit DocTable(TableSpec spec);

  [[nodiscard]] const TableSpec& spec() const { return spec_; }

  /// The document with this id, or nullopt.
  [[nodiscard]] std::optional<nlohmann::json> Find(store::Db& db, std::string_view id) const;
  /// The document with this id; 404 "no <what> with id <id>" when there is none.
  [[nodiscard]] nlohmann::json Get(store::Db& db, std::string_view id) const;
  /// The document as stored (text and version), unparsed: for reads that answer it as it is.
  [[nodiscard]] std::optional<store::StoredDoc> FindStored(store::Db& db,
                                                           std::string_view id) const;

  /// The stored version of the document with this id (an indexed lookup, nothing parsed), or
  /// nullopt when there is none. For versioned tables only.
  [[nodiscard]] std::optional<std::int64_t> VersionOf(store::Db& db, std::string_view id) const;

  /// Inserts a stamped document (see Stamp), with `extra` columns in the same statement.
  void Insert(store::Db& tx, const nlohmann::json& doc, const ExtraColumns& extra = {}) const;
  /// Stores a changed document as its next version: bumps `version` and `updated_at` in `doc`
  /// and writes it only if the stored row still has the version `doc` was read at. When another
  /// write got there first the update changes nothing and answers 412, so of two updates made
  /// from the same version exactly one wins, whatever the engine.
  void Update(store::Db& tx, nlohmann::json& doc) const;
  /// Deletes the row; false if there was none.
  bool Delete(store::Db& tx, std::string_view id) const;

  /// Every document matching `filters`, oldest first.
  [[nodiscard]] std::vector<nlohmann::json> Where(store::Db& db, const Filters& filters) const;
  /// How many documents match `filters`.
  [[nodiscard]] std::int64_t Count(store::Db& db, const Filters& filters) const;
  /// One page of documents matching `filters`, oldest first: `{"items": [...],
  /// "next_page_token": ...}`. Keyset paging on the insertion order: a page never repeats or
  /// skips a document because of inserts made between pages.
  [[nodiscard]] nlohmann::json List(store::Db& db, const http::PageRequest& page,
                                    const Filters& filters) const;

  /// One page of the documents matching `search` and `filters`, newest first, keyset-paged on
  /// the insertion order: `{"items": [...], "next_page_token": ...}`. Its cost follows the page,
  /// not the number of matches (no score is computed for every match).
  [[nodiscard]] nlohmann::json Search(store::Db& db, const SearchPage& search,
                                      const Filters& filters) const;
  /// (Re)indexes one stored document for search: for rows a service writes with SQL of its own
  /// (queries.cpp). A no-op for a table without search paths.
  void IndexDocument(store::Db& tx, const nlohmann::json& doc) const { Index(tx, doc, true); }
  /// Indexes a document inserted outside Insert (no earlier index rows to replace).
  void IndexNewDocument(store::Db& tx, const nlohmann::json& doc) const { Index(tx, doc, false); }
  /// Indexes the documents the search index does not hold yet (rows written before the table
  /// became searchable); returns how many. A no-op for a table without search paths.
  std::int64_t IndexMissing(store::Db& tx) const;
  /// The CREATE statement of the search index (for the migration that makes a table searchable):
  /// an FTS5 table on SQLite, a table of tsvectors with GIN indexes on PostgreSQL.
  [[nodiscard]] std::string SearchSql(store::Engine engine) const;
  [[nodiscard]] std::string SearchSql() const;

  /// Where the document lives: `<collection>/<id>`.
  [[nodiscard]] std::string Location(const nlohmann::json& doc) const;

  /// A statement selecting `(seq, doc)` after `?1` in insertion order, at most `?2` rows: the
  /// whole table page by page (snapshots).
  [[nodiscard]] std::string ScanSql() const;

  /// The CREATE TABLE statement for this spec (new tables only; existing tables keep their
  /// migrations).
  [[nodiscard]] std::string CreateSql(store::Engine engine) const;
  [[nodiscard]] std::string CreateSql() const;

 private:
  std::string Predicate(store::Db& db, const Filters& filters,
                        std::vector<FilterValue>& values) const;
  void Index(store::Db& tx, const nlohmann::json& doc, bool replace) const;
  std::optional<std::int64_t> SeqOf(store::Db& tx, std::string_view id) const;

  TableSpec spec_;
  std::string select_doc_;
  std::string select_stored_;
  std::string select_version_;
  std::string insert_;
  std::string update_;
  std::string delete_;
  std::vector<const Column*> written_;  // columns the layer copies from the document
};

/// Stamps a new document: a time-ordered id, version 1, created/updated now, and `created_by`
/// when `by` is given.
void Stamp(nlohmann::json& doc, std::string_view by = {});

}  // namespace jilaf::aggregate
