#include "services/notifications/render.hpp"

#include <kainjow/mustache.hpp>

#include <functional>
#include <map>
#include <string_view>
#include <vector>

namespace jilaf::notifications {
namespace {

namespace mustache = kainjow::mustache;

mustache::data ToData(const nlohmann::json& value);

// kainjow's set and push_back copy what they are given, so a tree converted bottom-up is copied
// once per level; objects and lists are set empty and filled where they stand instead.
mustache::data& Child(mustache::data& parent, const std::string& key, const nlohmann::json& value) {
  parent.set(key, mustache::data{value.is_object() ? mustache::data::type::object
                                                   : mustache::data::type::list});
  return const_cast<mustache::data&>(*parent.get(key));  // owned by `parent`, not const
}

mustache::data& Element(mustache::data& list, const nlohmann::json& value) {
  list.push_back(mustache::data{value.is_object() ? mustache::data::type::object
                                                  : mustache::data::type::list});
  return const_cast<mustache::data&>(list.list_value().back());  // owned by `list`, not const
}

void Fill(mustache::data& out, const nlohmann::json& value) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (it->is_structured()) {
        Fill(Child(out, it.key(), *it), *it);
      } else {
        out.set(it.key(), ToData(*it));
      }
    }
    return;
  }
  for (const auto& item : value) {
    if (item.is_structured()) {
      Fill(Element(out, item), item);
    } else {
      out.push_back(ToData(item));
    }
  }
}

mustache::data ToData(const nlohmann::json& value) {
  if (value.is_structured()) {
    mustache::data out{value.is_object() ? mustache::data::type::object
                                         : mustache::data::type::list};
    Fill(out, value);
    return out;
  }
  if (value.is_string()) return mustache::data{value.get_ref<const std::string&>()};
  if (value.is_boolean())
    return value.get<bool>() ? mustache::data{mustache::data::type::bool_true}
                             : mustache::data{mustache::data::type::bool_false};
  if (value.is_null()) return mustache::data{mustache::data::type::bool_false};
  return mustache::data{value.dump()};  // numbers as their JSON text
}

// Appends what the renderer writes to one string: kainjow's string-returning render builds an
// ostringstream (and its locale) per call, a tenth of rendering's cost.
struct Appender {
  std::string& out;
  Appender& operator<<(const std::string& text) {
    out += text;
    return *this;
  }
};

// Follows `names` from `start` through nested objects; null when a step is missing.
const mustache::data* Walk(const mustache::data* start, const std::vector<std::string>& names,
                           std::size_t from) {
  for (std::size_t i = from; start != nullptr && i < names.size(); ++i) {
    start = start->get(names[i]);
  }
  return start;
}

// "a.b.c" -> {"a", "b", "c"}; kainjow's own split goes through a stringstream, which cost more
// than the rest of a lookup.
std::vector<std::string> SplitName(std::string_view name) {
  std::vector<std::string> names;
  while (!name.empty()) {  // as std::getline splits: no empty name after a final dot
    const auto dot = name.find('.');
    names.emplace_back(name.substr(0, dot));
    name.remove_prefix(dot == std::string_view::npos ? name.size() : dot + 1);
  }
  return names;
}

LinkBases& MutableLinks();
mustache::data& LinksData();

}  // namespace

struct TemplateData::Impl {
  // `root` holds everything a template can name, except (for an event) `data` and `links`,
  // which are read where they are: the event's data is converted only as far as a template
  // names it, and the links once per process.
  mustache::data root{mustache::data::type::object};
  const nlohmann::json* lazy_data = nullptr;
  // What has been converted from `lazy_data`, by the dotted name that asked for it; map nodes
  // stay where they are, so the pointers the renderer holds stay valid.
  mutable std::map<std::string, mustache::data, std::less<>> converted;

  // The root's value for the dotted name `names` (already split), or null.
  const mustache::data* Find(const std::string& name, const std::vector<std::string>& names) const {
    if (lazy_data == nullptr || names.empty()) return Walk(&root, names, 0);
    if (names.front() == "links") return Walk(&LinksData(), names, 1);
    if (names.front() != "data") return Walk(&root, names, 0);
    if (auto found = converted.find(name); found != converted.end()) return &found->second;
    const nlohmann::json* value = lazy_data;
    for (std::size_t i = 1; i < names.size(); ++i) {
      if (!value->is_object()) return nullptr;
      const auto member = value->find(names[i]);
      if (member == value->end()) return nullptr;
      value = &*member;
    }
    return &converted.emplace(name, ToData(*value)).first->second;
  }
};

// The context a template renders in: sections push their values on top of the root, as in
// kainjow's own context; a name none of them holds is looked up in the root (converted on
// demand) and, when the root lacks it too, recorded as missing.
class LazyContext : public mustache::basic_context<std::string> {
 public:
  LazyContext(const TemplateData::Impl& root, std::set<std::string>& missing)
      : root_(root), missing_(missing) {}
  void push(const mustache::data* data) override { items_.insert(items_.begin(), data); }
  void pop() override { items_.erase(items_.begin()); }

  const mustache::data* get(const std::string& name) const override {
    if (name == ".") return items_.empty() ? &root_.root : items_.front();
    const auto names = SplitName(name);
    for (const auto* item : items_) {
      if (const auto* found = Walk(item, names, 0)) return found;
    }
    const auto* found = root_.Find(name, names);
    if (found == nullptr) missing_.insert(name);
    return found;
  }

  const mustache::data* get_partial(const std::string& name) const override {
    for (const auto* item : items_) {
      if (const auto* found = item->get(name)) return found;
    }
    return root_.root.get(name);
  }

 private:
  const TemplateData::Impl& root_;
  std::set<std::string>& missing_;
  std::vector<const mustache::data*> items_;
};

namespace {

LinkBases& MutableLinks() {
  static LinkBases bases;
  return bases;
}

// "jilaf.invitations.nomination.visa_granted" -> "nomination visa granted".
std::string What(const std::string& type) {
  std::string tail = type;
  for (int dots = 0; dots < 2; ++dots) {
    const auto dot = tail.find('.');
    if (dot == std::string::npos) break;
    tail = tail.substr(dot + 1);
  }
  for (auto& c : tail) {
    if (c == '.' || c == '_') c = ' ';
  }
  return tail;
}

nlohmann::json LinksJson() {
  const auto& bases = Links();
  return {{"invitations", bases.invitations},
          {"projects", bases.projects},
          {"missions", bases.missions}};
}

// The `links` object every template sees, converted once (and again by SetLinkBases), not per
// event.
mustache::data& LinksData() {
  static mustache::data links = ToData(LinksJson());
  return links;
}

}  // namespace

void SetLinkBases(LinkBases bases) {
  MutableLinks() = std::move(bases);
  LinksData() = ToData(LinksJson());
}
const LinkBases& Links() { return MutableLinks(); }

TemplateData::TemplateData(const nlohmann::json& context) : impl_(std::make_unique<Impl>()) {
  impl_->root = ToData(context);
}
TemplateData::TemplateData(const events::CloudEvent& event) : impl_(std::make_unique<Impl>()) {
  impl_->root.set("event", mustache::data{mustache::data::type::object});
  // Filled where it stands: kainjow's set copies what it is given.
  auto& about = const_cast<mustache::data&>(*impl_->root.get("event"));
  about.set("id", event.id);
  about.set("type", event.type);
  about.set("what", What(event.type));
  about.set("source", event.source);
  about.set("subject", event.subject);
  about.set("time", event.time);
  if (event.data.is_object()) {
    impl_->lazy_data = &event.data;
  } else {
    impl_->root.set("data", ToData(event.data));
    impl_->root.set("links", LinksData());
  }
}
TemplateData::~TemplateData() = default;
TemplateData::TemplateData(TemplateData&&) noexcept = default;
TemplateData& TemplateData::operator=(TemplateData&&) noexcept = default;

struct Template::Impl {
  explicit Impl(const std::string& text) : compiled(text) {
    compiled.set_custom_escape([](const std::string& s) { return s; });
  }
  mustache::mustache compiled;
};

Template::Template(const std::string& text) : impl_(std::make_unique<Impl>(text)) {}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

Rendered Template::Render(const TemplateData& data) const {
  Rendered out;
  auto& compiled = impl_->compiled;
  if (!compiled.is_valid()) {
    out.error = compiled.error_message();
    return out;
  }
  LazyContext ctx(data.impl(), out.missing);
  Appender appender{out.text};
  compiled.render(ctx, appender);
  out.ok = out.missing.empty();
  return out;
}

Rendered Render(const std::string& text, const nlohmann::json& context) {
  return Template(text).Render(TemplateData(context));
}

nlohmann::json TemplateContext(const events::CloudEvent& event) {
  return {{"event",
           {{"id", event.id},
            {"type", event.type},
            {"what", What(event.type)},
            {"source", event.source},
            {"subject", event.subject},
            {"time", event.time}}},
          {"data", event.data},
          {"links", LinksJson()}};
}

}  // namespace jilaf::notifications
