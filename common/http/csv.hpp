#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string>

#include "common/http/message.hpp"
#include "common/http/router.hpp"

// CSV for list routes, written once: a route declared Router::Tabular() answers `Accept:
// text/csv` or `?format=csv` with the same rows its JSON `items` hold, as the caller's role sees
// them (the handler renders them; this only changes the notation).
namespace jilaf::http {

/// True when the caller asked for CSV: `format=csv`, or an Accept header naming text/csv (and no
/// `format=json`). 400 naming `format` for any other value.
[[nodiscard]] bool WantsCsv(const Request& request);

/// One CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, a quote or a line
/// break; as it is otherwise.
[[nodiscard]] std::string CsvQuote(const std::string& text);

/// The rows as CSV (RFC 4180, CRLF, UTF-8 with a byte order mark so that spreadsheet programs read
/// Japanese correctly). Columns are every member of the items, nested objects flattened to
/// `a.b` (members in name order), arrays of scalars joined with "; ", anything else as JSON text.
/// A text cell starting with = + - @ (or a tab or carriage return) is prefixed with ' so that no
/// spreadsheet runs it as a formula; numbers stay numbers.
[[nodiscard]] std::string ToCsv(const nlohmann::json& items);

/// Wraps a list handler, the one place every list's query rules live:
/// - a query parameter the handler never read (Request::queried) is 400 naming it;
/// - the `next_page_token` it answers is bound to the query (its parameters but the page and
///   `format`): a token replayed with another query is 400 naming `page_token`;
/// - CSV when asked. Without `page_size`/`page_token` the CSV holds the whole list: one page is
///   answered whole; a longer list is streamed (Response::stream), a first pass over the pages
///   finding the columns, a second writing the rows a page per chunk, so memory holds one page
///   whatever the length. With them, that one page and a `Link` to the next.
[[nodiscard]] Handler Tabular(Handler list);

}  // namespace jilaf::http
