#include "services/notifications/render.hpp"

#include <kainjow/mustache.hpp>

namespace jilaf::notifications {
namespace {

namespace mustache = kainjow::mustache;

mustache::data ToData(const nlohmann::json& value) {
  if (value.is_object()) {
    mustache::data out{mustache::data::type::object};
    for (const auto& [key, item] : value.items()) out.set(key, ToData(item));
    return out;
  }
  if (value.is_array()) {
    mustache::data out{mustache::data::type::list};
    for (const auto& item : value) out.push_back(ToData(item));
    return out;
  }
  if (value.is_string()) return mustache::data{value.get<std::string>()};
  if (value.is_boolean())
    return value.get<bool>() ? mustache::data{mustache::data::type::bool_true}
                             : mustache::data{mustache::data::type::bool_false};
  if (value.is_null()) return mustache::data{mustache::data::type::bool_false};
  return mustache::data{value.dump()};  // numbers as their JSON text
}

// Records every name the template asks for that the data cannot answer.
class RecordingContext : public mustache::context<std::string> {
 public:
  RecordingContext(const mustache::data* data, std::set<std::string>& missing)
      : mustache::context<std::string>(data), missing_(missing) {}
  const mustache::data* get(const std::string& name) const override {
    const auto* found = mustache::context<std::string>::get(name);
    if (found == nullptr) missing_.insert(name);
    return found;
  }

 private:
  std::set<std::string>& missing_;
};

}  // namespace

Rendered Render(const std::string& text, const nlohmann::json& context) {
  Rendered out;
  mustache::mustache tmpl{text};
  if (!tmpl.is_valid()) {
    out.error = tmpl.error_message();
    return out;
  }
  tmpl.set_custom_escape([](const std::string& s) { return s; });
  const mustache::data data = ToData(context);
  RecordingContext ctx(&data, out.missing);
  out.text = tmpl.render(ctx);
  out.ok = out.missing.empty();
  return out;
}

nlohmann::json TemplateContext(const events::CloudEvent& event) {
  return {{"event",
           {{"id", event.id},
            {"type", event.type},
            {"source", event.source},
            {"subject", event.subject},
            {"time", event.time}}},
          {"data", event.data}};
}

}  // namespace jilaf::notifications
