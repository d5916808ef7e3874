#include "common/config/flags.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace jilaf::config {

Flags::Flags(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void Flags::String(std::string name, std::string* target, std::string help) {
  flags_.push_back({std::move(name), Kind::kString, target, 0, 0, std::move(help), *target});
}

void Flags::Int(std::string name, std::int64_t* target, std::int64_t min, std::int64_t max,
                std::string help) {
  flags_.push_back(
      {std::move(name), Kind::kInt, target, min, max, std::move(help), std::to_string(*target)});
}

void Flags::Bool(std::string name, bool* target, std::string help) {
  flags_.push_back(
      {std::move(name), Kind::kBool, target, 0, 0, std::move(help), *target ? "true" : "false"});
}

std::string Flags::EnvName(const std::string& flag) {
  std::string out = "JILAF_";
  for (char c : flag) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::optional<std::string> Flags::Assign(const Flag& flag, const std::string& value,
                                         const std::string& origin) {
  const std::string where = origin + " (--" + flag.name + " / " + EnvName(flag.name) + ")";
  switch (flag.kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag.target) = value;
      return std::nullopt;
    case Kind::kInt: {
      std::size_t used = 0;
      long long number = 0;
      try {
        number = std::stoll(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != value.size()) {
        return "invalid " + where + ": '" + value + "' is not an integer";
      }
      if (number < flag.min || number > flag.max) {
        return "invalid " + where + ": " + value + " is outside " + std::to_string(flag.min) +
               ".." + std::to_string(flag.max);
      }
      *static_cast<std::int64_t*>(flag.target) = number;
      return std::nullopt;
    }
    case Kind::kBool:
      if (value == "true" || value == "1" || value == "yes") {
        *static_cast<bool*>(flag.target) = true;
      } else if (value == "false" || value == "0" || value == "no") {
        *static_cast<bool*>(flag.target) = false;
      } else {
        return "invalid " + where + ": '" + value + "' is not true or false";
      }
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> Flags::Parse(const std::vector<std::string>& args,
                                        const std::function<const char*(const char*)>& getenv,
                                        bool& help_requested) {
  help_requested = false;
  for (const auto& flag : flags_) {
    if (const char* value = getenv(EnvName(flag.name).c_str()); value != nullptr) {
      if (auto error = Assign(flag, value, "environment variable " + EnvName(flag.name))) {
        return error;
      }
    }
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_requested = true;
      return std::nullopt;
    }
    if (arg.rfind("--", 0) != 0) return "unexpected argument '" + arg + "' (see --help)";
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const Flag* found = nullptr;
    for (const auto& flag : flags_) {
      if (flag.name == name) found = &flag;
    }
    if (found == nullptr) return "unknown flag --" + name + " (see --help)";
    if (!value) {
      if (found->kind == Kind::kBool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return "flag --" + name + " needs a value";
      }
    }
    if (auto error = Assign(*found, *value, "flag")) return error;
  }
  return std::nullopt;
}

void Flags::ParseOrExit(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  bool help = false;
  if (auto error = Parse(
          args, [](const char* name) { return std::getenv(name); }, help)) {
    std::cerr << program_ << ": " << *error << "\n";
    std::exit(2);
  }
  if (help) {
    std::cout << Usage();
    std::exit(0);
  }
}

std::string Flags::Usage() const {
  std::ostringstream out;
  out << "Usage: " << program_ << " [flags]\n\n"
      << summary_ << "\n\nFlags (each also read from "
      << "the environment variable shown; flags win):\n";
  for (const auto& flag : flags_) {
    out << "  --" << flag.name << (flag.kind == Kind::kBool ? "" : " VALUE") << "\n      "
        << flag.help << "\n      env " << EnvName(flag.name) << ", default '" << flag.default_text
        << "'\n";
  }
  out << "  --help\n      Print this help and exit.\n";
  return out.str();
}

}  // namespace jilaf::config
