// oncoquant plugins: what this build can read and write.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "oq/plugin.h"

namespace oq::cli {

int cmd_plugins(int argc, char** argv) {
  static const char* usage =
      "usage: oncoquant plugins [--json]\n  Lists every plugin of this build: name, kind, priority, what it does.\n";
  Args args(argc, argv, 2, {}, {"--json", "--help"});
  if (args.has("--help")) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (!args.ok() || !args.positional().empty()) return usage_fail(args.ok() ? "plugins takes no arguments" : args.error(), usage);
  if (args.has("--json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto* p : all_plugins())
      j.push_back({{"name", p->name}, {"kind", to_string(p->kind)}, {"priority", p->priority}, {"summary", p->summary}});
    std::cout << dump(j) << "\n";
    return 0;
  }
  for (const auto* p : all_plugins())
    std::printf("%-12s %-10s priority %3d  %s\n", p->name, to_string(p->kind), p->priority, p->summary);
  return 0;
}

}  // namespace oq::cli
