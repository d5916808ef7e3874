#include "services/notifications/render.hpp"

#include <kainjow/mustache.hpp>

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

struct TemplateData::Impl {
  mustache::data data;
};

TemplateData::TemplateData(const nlohmann::json& context)
    : impl_(std::make_unique<Impl>(Impl{ToData(context)})) {}
TemplateData::TemplateData(const events::CloudEvent& event) : impl_(std::make_unique<Impl>()) {
  mustache::data about{mustache::data::type::object};
  about.set("id", event.id);
  about.set("type", event.type);
  about.set("what", What(event.type));
  about.set("source", event.source);
  about.set("subject", event.subject);
  about.set("time", event.time);
  impl_->data = mustache::data{mustache::data::type::object};
  impl_->data.set("event", about);
  if (event.data.is_structured()) {
    Fill(Child(impl_->data, "data", event.data), event.data);
  } else {
    impl_->data.set("data", ToData(event.data));
  }
  impl_->data.set("links", LinksData());
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
  RecordingContext ctx(&data.impl().data, out.missing);
  out.text = compiled.render(ctx);
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
