#include "oq/json_input.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

namespace oq {

Result<std::string> read_small_file(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return Error(ErrorCode::kInvalidArgument, "is a folder, not a file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, std::string("cannot be read: ") + std::strerror(errno), path);
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes)
      return Error(ErrorCode::kUnsupported,
                   "is larger than " + std::to_string(max_bytes >> 20) + " MiB; not an input of this kind", path);
  }
  if (in.bad()) return Error(ErrorCode::kUnreadable, "reading it failed", path);
  return text;
}

namespace {

constexpr int kMaxDepth = 256;

// Where the parser is: one frame per open object or array.
struct Frame {
  bool object = false;
  std::set<std::string> keys;
  std::string key;        // the member being read (objects)
  std::size_t index = 0;  // the element being read (arrays)
};

std::string path_of(const std::vector<Frame>& frames, std::size_t upto) {
  std::string p = "$";
  for (std::size_t i = 0; i < upto; ++i)
    p += frames[i].object ? "." + frames[i].key : "[" + std::to_string(frames[i].index) + "]";
  return p;
}

}  // namespace

Result<nlohmann::json> parse_json_strictly(const std::string& text, const std::string& source) {
  using nlohmann::json;
  std::vector<Frame> frames;
  std::string problem;
  auto next_element = [&]() {
    if (!frames.empty() && !frames.back().object) ++frames.back().index;
  };
  const json::parser_callback_t check = [&](int, json::parse_event_t event, json& parsed) {
    if (!problem.empty()) return false;
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (frames.size() >= kMaxDepth) {
          problem = path_of(frames, frames.size()) + ": nested more than " + std::to_string(kMaxDepth) + " levels deep";
          throw std::runtime_error(problem);
        }
        frames.push_back(Frame{event == json::parse_event_t::object_start, {}, {}, 0});
        break;
      case json::parse_event_t::key:
        frames.back().key = parsed.get<std::string>();
        if (!frames.back().keys.insert(frames.back().key).second) {
          problem = path_of(frames, frames.size()) + ": the key is given twice in one object";
          throw std::runtime_error(problem);
        }
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames.pop_back();
        next_element();
        break;
      case json::parse_event_t::value:
        next_element();
        break;
    }
    return true;
  };
  try {
    return json::parse(text, check);
  } catch (const json::exception& e) {
    // nlohmann's messages carry their own "[json.exception...]" prefix; the position is what helps.
    std::string what = e.what();
    if (const auto close = what.find("] "); what.rfind("[json.exception", 0) == 0 && close != std::string::npos)
      what = what.substr(close + 2);
    return Error(ErrorCode::kUnreadable, "not valid JSON: " + what, source);
  } catch (const std::runtime_error&) {
    return Error(ErrorCode::kUnreadable, "not valid JSON: " + problem, source);
  }
}

}  // namespace oq
