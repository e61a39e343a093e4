#include "oq/plugin.h"

namespace oq {

const char* to_string(PluginKind k) {
  switch (k) {
    case PluginKind::kLoader:
      return "loader";
    case PluginKind::kExporter:
      return "exporter";
    case PluginKind::kSegmenter:
      return "segmenter";
    case PluginKind::kQuantifier:
      return "quantifier";
  }
  return "?";
}

const char* to_string(Units u) {
  switch (u) {
    case Units::kDefault:
      return "default";
    case Units::kNative:
      return "native";
    case Units::kHU:
      return "hu";
    case Units::kSUVbw:
      return "suvbw";
    case Units::kSULlbm:
      return "suvlbm";
  }
  return "?";
}

bool parse_units(const std::string& text, Units& out) {
  if (text == "native")
    out = Units::kNative;
  else if (text == "hu")
    out = Units::kHU;
  else if (text == "suvbw")
    out = Units::kSUVbw;
  else if (text == "suvlbm" || text == "sullbm")
    out = Units::kSULlbm;
  else
    return false;
  return true;
}

const PluginDescriptor* find_exporter(const std::string& path) {
  const PluginDescriptor* found = nullptr;
  for (const auto* p : all_plugins())
    if (p->kind == PluginKind::kExporter && p->exporter && p->exporter->accepts(path).confidence > 0) found = p;
  return found;
}

const PluginDescriptor* find_plugin(const std::string& name) {
  for (const auto* p : all_plugins())
    if (name == p->name) return p;
  return nullptr;
}

}  // namespace oq
