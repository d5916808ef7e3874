#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace jilaf::config {

/// Command-line flags with environment fallbacks. Each flag `--some-name` may also be set as
/// `JILAF_SOME_NAME`; a flag on the command line wins over the environment, which wins over the
/// default. `--help` lists every flag with its variable and default.
class Flags {
 public:
  Flags(std::string program, std::string summary);

  void String(std::string name, std::string* target, std::string help);
  void Int(std::string name, std::int64_t* target, std::int64_t min, std::int64_t max,
           std::string help);
  void Bool(std::string name, bool* target, std::string help);

  /// Parses; on --help prints usage to stdout and exits 0; on an error prints it naming the
  /// setting and exits 2.
  void ParseOrExit(int argc, char** argv);
  /// Parses `args` (without the program name) with `getenv` for variables. Returns the error
  /// message, or nullopt on success; sets `help_requested` instead of printing.
  std::optional<std::string> Parse(const std::vector<std::string>& args,
                                   const std::function<const char*(const char*)>& getenv,
                                   bool& help_requested);
  [[nodiscard]] std::string Usage() const;

  /// JILAF_ + the flag name in upper case with '-' as '_'.
  static std::string EnvName(const std::string& flag);

 private:
  enum class Kind { kString, kInt, kBool };
  struct Flag {
    std::string name;
    Kind kind;
    void* target;
    std::int64_t min = 0;
    std::int64_t max = 0;
    std::string help;
    std::string default_text;
  };
  std::optional<std::string> Assign(const Flag& flag, const std::string& value,
                                    const std::string& origin);

  std::string program_;
  std::string summary_;
  std::vector<Flag> flags_;
};

}  // namespace jilaf::config
