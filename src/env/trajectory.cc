#include "r2e/trajectory.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "r2e/repo_env.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The named fields of each line type; `extra` cannot replace them.
constexpr std::string_view kStepFields[] = {
    "type",        "step",      "thought",    "action",  "observation",   "done",
    "exit_code",   "timed_out", "duration_s", "model_s", "prompt_tokens", "completion_tokens",
    "total_tokens"};
constexpr std::string_view kSummaryFields[] = {"type",        "instance_id", "reward",
                                               "exit_reason", "steps",       "patch"};

template <std::size_t N>
bool IsNamed(const std::string& key, const std::string_view (&names)[N]) {
  for (std::string_view n : names) {
    if (key == n) return true;
  }
  return false;
}

template <std::size_t N>
void MergeExtra(nlohmann::ordered_json& line, const json& extra,
                const std::string_view (&names)[N]) {
  if (!extra.is_object()) return;
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    if (!IsNamed(it.key(), names)) line[it.key()] = it.value();
  }
}

template <std::size_t N>
json ExtraOf(const json& line, const std::string_view (&names)[N]) {
  json extra = json::object();
  for (auto it = line.begin(); it != line.end(); ++it) {
    if (!IsNamed(it.key(), names)) extra[it.key()] = it.value();
  }
  return extra.empty() ? json() : extra;
}

// Typed field readers: a missing field keeps the default; a field of the
// wrong type is an error.
struct FieldReader {
  const json& line;
  std::string error;

  template <typename T>
  void Get(const char* key, T& out) {
    auto it = line.find(key);
    if (it == line.end() || it->is_null()) return;
    bool ok = false;
    if constexpr (std::is_same_v<T, std::string>) {
      ok = it->is_string();
    } else if constexpr (std::is_same_v<T, bool>) {
      ok = it->is_boolean();
    } else if constexpr (std::is_integral_v<T>) {
      ok = it->is_number_integer();
    } else {
      ok = it->is_number();
    }
    if (!ok) {
      if (error.empty()) error = std::string("field `") + key + "` has the wrong type";
      return;
    }
    out = it->template get<T>();
  }

  template <typename T>
  void Get(const char* key, std::optional<T>& out) {
    if (!line.contains(key) || line[key].is_null()) return;
    T value{};
    Get(key, value);
    out = value;
  }
};

}  // namespace

StepRecord StepRecord::From(int step, const Action& action, const StepResult& result) {
  StepRecord r;
  r.step = step;
  r.thought = action.thought;
  r.action = action.ToXml();
  r.observation = result.observation.text;
  r.done = result.done;
  r.exit_code = result.info.exit_code;
  r.timed_out = result.info.timed_out;
  r.duration_s = result.info.total_time.count();
  return r;
}

void TrajectoryWriter::FileCloser::operator()(std::FILE* f) const {
  if (f) std::fclose(f);
}

TrajectoryWriter::TrajectoryWriter(fs::path path, std::FILE* file)
    : path_(std::move(path)), file_(file) {}

Result<TrajectoryWriter> TrajectoryWriter::Open(const fs::path& path,
                                                const TrajectoryWriterOptions& options) {
  if (path.empty()) return Status::InvalidArgument("trajectory path is empty");
  if (options.create_parents && path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return Status::Unavailable("cannot create " + path.parent_path().string() + ": " +
                                 ec.message());
    }
  }
  std::FILE* f = std::fopen(path.c_str(), options.append ? "ab" : "wb");
  if (!f) {
    return Status::Unavailable("cannot open trajectory file " + path.string() + ": " +
                               std::strerror(errno));
  }
  return TrajectoryWriter(path, f);
}

nlohmann::ordered_json TrajectoryWriter::StepJson(const StepRecord& r) {
  nlohmann::ordered_json line = {{"type", "step"},
                                 {"step", r.step},
                                 {"thought", r.thought},
                                 {"action", r.action},
                                 {"observation", r.observation},
                                 {"done", r.done},
                                 {"exit_code", r.exit_code},
                                 {"timed_out", r.timed_out},
                                 {"duration_s", r.duration_s}};
  if (r.model_s) line["model_s"] = *r.model_s;
  if (r.prompt_tokens) line["prompt_tokens"] = *r.prompt_tokens;
  if (r.completion_tokens) line["completion_tokens"] = *r.completion_tokens;
  if (r.total_tokens) line["total_tokens"] = *r.total_tokens;
  MergeExtra(line, r.extra, kStepFields);
  return line;
}

nlohmann::ordered_json TrajectoryWriter::SummaryJson(const EpisodeSummary& s) {
  nlohmann::ordered_json line = {{"type", "summary"},  {"instance_id", s.instance_id},
                                 {"reward", s.reward}, {"exit_reason", s.exit_reason},
                                 {"steps", s.steps},   {"patch", s.patch}};
  MergeExtra(line, s.extra, kSummaryFields);
  return line;
}

Status TrajectoryWriter::WriteLine(const nlohmann::ordered_json& line) {
  if (!file_) return Status::FailedPrecondition("trajectory " + path_.string() + " is closed");
  if (summary_written_) {
    return Status::FailedPrecondition("trajectory " + path_.string() +
                                      " already has its summary line");
  }
  std::string text;
  try {
    text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  } catch (const std::exception& e) {  // not expected with `replace`; never let it escape
    return Status::Internal(std::string("serializing a trajectory line: ") + e.what());
  }
  text += '\n';
  if (std::fwrite(text.data(), 1, text.size(), file_.get()) != text.size() ||
      std::fflush(file_.get()) != 0) {
    const int err = errno;
    std::clearerr(file_.get());
    return Status::Unavailable("writing trajectory " + path_.string() + ": " + std::strerror(err));
  }
  ++lines_;
  return Status::OK();
}

Status TrajectoryWriter::WriteStep(const StepRecord& record) { return WriteLine(StepJson(record)); }

Status TrajectoryWriter::WriteSummary(const EpisodeSummary& summary) {
  R2E_RETURN_IF_ERROR(WriteLine(SummaryJson(summary)));
  summary_written_ = true;
  return Status::OK();
}

Status TrajectoryWriter::Close() {
  if (!file_) return Status::OK();
  std::FILE* f = file_.release();
  if (std::fclose(f) != 0) {
    return Status::Unavailable("closing trajectory " + path_.string() + ": " +
                               std::strerror(errno));
  }
  return Status::OK();
}

Result<Trajectory> ReadTrajectory(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return Status::NotFound("trajectory " + path.string() + " does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Unavailable("cannot read trajectory " + path.string());
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();

  Trajectory out;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < data.size()) {
    ++line_no;
    std::size_t nl = data.find('\n', pos);
    const bool complete = nl != std::string::npos;
    const std::string_view text(data.data() + pos, (complete ? nl : data.size()) - pos);
    pos = complete ? nl + 1 : data.size();
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto where = [&] { return path.string() + ":" + std::to_string(line_no) + ": "; };

    json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (line.is_discarded() || !line.is_object()) {
      if (!complete) {
        out.torn_tail = true;
        break;
      }
      return Status::InvalidArgument(where() + "not a JSON object");
    }
    auto type_it = line.find("type");
    const std::string type =
        type_it != line.end() && type_it->is_string() ? type_it->get<std::string>() : "";
    FieldReader f{line, {}};
    if (type == "step") {
      StepRecord r;
      f.Get("step", r.step);
      f.Get("thought", r.thought);
      f.Get("action", r.action);
      f.Get("observation", r.observation);
      f.Get("done", r.done);
      f.Get("exit_code", r.exit_code);
      f.Get("timed_out", r.timed_out);
      f.Get("duration_s", r.duration_s);
      f.Get("model_s", r.model_s);
      f.Get("prompt_tokens", r.prompt_tokens);
      f.Get("completion_tokens", r.completion_tokens);
      f.Get("total_tokens", r.total_tokens);
      r.extra = ExtraOf(line, kStepFields);
      if (!f.error.empty()) return Status::InvalidArgument(where() + f.error);
      out.steps.push_back(std::move(r));
    } else if (type == "summary") {
      if (out.summary) return Status::InvalidArgument(where() + "a second summary line");
      EpisodeSummary s;
      f.Get("instance_id", s.instance_id);
      f.Get("reward", s.reward);
      f.Get("exit_reason", s.exit_reason);
      f.Get("steps", s.steps);
      f.Get("patch", s.patch);
      s.extra = ExtraOf(line, kSummaryFields);
      if (!f.error.empty()) return Status::InvalidArgument(where() + f.error);
      out.summary = std::move(s);
    } else {
      return Status::InvalidArgument(where() + "unknown line type `" + type +
                                     "` (expected step or summary)");
    }
  }
  return out;
}

}  // namespace r2e
