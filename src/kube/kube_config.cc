// Kubeconfig and in-cluster configuration loading (r2e/kube_config.h).
// Plain code on yaml-cpp: no network, no processes, so it is unit-testable.
#include "r2e/kube_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/text.h"
#include "kube/kube_text.h"

namespace r2e {
namespace fs = std::filesystem;

namespace {

// One named entry (cluster, user or context) and the file that defined it,
// which relative paths in it are relative to.
struct Entry {
  YAML::Node node;
  std::string file;
};

struct Merged {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  std::string files;  // for messages
};

Result<std::string> ReadWholeFile(const fs::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(what + ": cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  if (!in.good() && !in.eof()) return Status::InvalidArgument(what + ": error reading " + path.string());
  return s.str();
}

std::string Str(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  if (!v || !v.IsScalar()) return "";
  return v.as<std::string>();
}

bool Bool(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  if (!v || !v.IsScalar()) return false;
  const std::string s = v.as<std::string>();
  return s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "1";
}

// A path from a kubeconfig, relative to the directory of `file`.
std::string Resolve(const std::string& path, const std::string& file) {
  if (path.empty()) return path;
  fs::path p(path);
  if (p.is_absolute()) return path;
  return (fs::path(file).parent_path() / p).lexically_normal().string();
}

// Adds the named entries of `list` (clusters/users/contexts) to `into`;
// the first definition of a name wins, as with kubectl.
Status AddEntries(const YAML::Node& root, const char* list, const char* inner, const std::string& file,
                  std::map<std::string, Entry>& into) {
  const YAML::Node l = root[list];
  if (!l || l.IsNull()) return Status::OK();
  if (!l.IsSequence()) return Status::InvalidArgument("kubeconfig " + file + ": `" + list + "` is not a list");
  for (const YAML::Node& item : l) {
    if (!item.IsMap()) return Status::InvalidArgument("kubeconfig " + file + ": an entry of `" + list + "` is not a map");
    const std::string name = Str(item, "name");
    if (name.empty()) return Status::InvalidArgument("kubeconfig " + file + ": an entry of `" + list + "` has no name");
    YAML::Node body = item[inner];
    if (body && !body.IsMap() && !body.IsNull()) {
      return Status::InvalidArgument("kubeconfig " + file + ": " + list + " entry `" + name + "` has a malformed `" +
                                     inner + "`");
    }
    if (!body || body.IsNull()) body = YAML::Node(YAML::NodeType::Map);
    into.emplace(name, Entry{body, file});
  }
  return Status::OK();
}

Status MergeFile(const std::string& file, Merged& m) {
  R2E_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(file, "kubeconfig"));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // The parser's message names a position, not the content.
    return Status::InvalidArgument("kubeconfig " + file + " is not valid YAML: " + e.what());
  }
  if (!root || root.IsNull()) return Status::OK();  // an empty file adds nothing
  if (!root.IsMap()) return Status::InvalidArgument("kubeconfig " + file + " is not a YAML map");
  R2E_RETURN_IF_ERROR(AddEntries(root, "clusters", "cluster", file, m.clusters));
  R2E_RETURN_IF_ERROR(AddEntries(root, "users", "user", file, m.users));
  R2E_RETURN_IF_ERROR(AddEntries(root, "contexts", "context", file, m.contexts));
  if (m.current_context.empty()) m.current_context = Str(root, "current-context");
  return Status::OK();
}

// The PEM from `<field>-data` (base64) or `<field>` (a file), data first.
Result<std::string> PemField(const Entry& e, const std::string& field, const std::string& what) {
  const std::string data = Str(e.node, (field + "-data").c_str());
  if (!data.empty()) {
    auto decoded = kube::Base64Decode(data);
    if (!decoded) {
      return Status::InvalidArgument(field + "-data of " + what + " in " + e.file + " is not valid base64");
    }
    if (decoded->find("-----BEGIN") == std::string::npos) {
      return Status::InvalidArgument(field + "-data of " + what + " in " + e.file + " does not hold PEM data");
    }
    return *decoded;
  }
  const std::string path = Resolve(Str(e.node, field.c_str()), e.file);
  if (path.empty()) return std::string();
  R2E_ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(path, field + " of " + what + " in " + e.file));
  if (pem.find("-----BEGIN") == std::string::npos) {
    return Status::InvalidArgument(field + " of " + what + " in " + e.file + ": " + path + " does not hold PEM data");
  }
  return pem;
}

Status CheckServer(const std::string& server, const std::string& what) {
  if (server.empty()) return Status::InvalidArgument(what + " has no server");
  if (!server.starts_with("https://")) {
    return Status::InvalidArgument(what + ": server " + server +
                                   " is not an https:// URL (r2e talks to API servers over TLS only)");
  }
  return Status::OK();
}

Result<KubeExecPlugin> ExecPlugin(const Entry& user, const std::string& what) {
  const YAML::Node n = user.node["exec"];
  if (!n.IsMap()) return Status::InvalidArgument("exec of " + what + " in " + user.file + " is not a map");
  KubeExecPlugin p;
  p.api_version = Str(n, "apiVersion");
  p.command = Str(n, "command");
  if (p.command.empty()) return Status::InvalidArgument("exec of " + what + " in " + user.file + " has no command");
  // kubectl: a command with a path separator is relative to the kubeconfig.
  if (p.command.find('/') != std::string::npos) p.command = Resolve(p.command, user.file);
  if (const YAML::Node args = n["args"]; args && args.IsSequence()) {
    for (const YAML::Node& a : args) p.args.push_back(a.as<std::string>());
  }
  if (const YAML::Node env = n["env"]; env && env.IsSequence()) {
    for (const YAML::Node& kv : env) p.env.emplace_back(Str(kv, "name"), Str(kv, "value"));
  }
  p.install_hint = Str(n, "installHint");
  p.provide_cluster_info = Bool(n, "provideClusterInfo");
  return p;
}

std::string DefaultNamespace(const std::string& override_ns, const std::string& from_config) {
  if (!override_ns.empty()) return override_ns;
  if (!from_config.empty()) return from_config;
  return "default";
}

Result<KubeConfig> Build(const Merged& m, const std::string& context_override, const std::string& ns_override) {
  const std::string context = context_override.empty() ? m.current_context : context_override;
  if (context.empty()) {
    return Status::InvalidArgument("kubeconfig " + m.files + " sets no current-context; name one with --context");
  }
  auto ctx = m.contexts.find(context);
  if (ctx == m.contexts.end()) {
    std::string known;
    for (const auto& [name, e] : m.contexts) known += (known.empty() ? "" : ", ") + name;
    return Status::InvalidArgument("context `" + context + "` is not in kubeconfig " + m.files +
                                   " (contexts: " + (known.empty() ? "none" : known) + ")");
  }
  const std::string cluster_name = Str(ctx->second.node, "cluster");
  const std::string user_name = Str(ctx->second.node, "user");
  auto cluster = m.clusters.find(cluster_name);
  if (cluster == m.clusters.end()) {
    return Status::InvalidArgument("context `" + context + "` names cluster `" + cluster_name +
                                   "`, which is not in kubeconfig " + m.files);
  }
  KubeConfig c;
  c.context = context;
  c.source = m.files;
  const std::string cwhat = "cluster `" + cluster_name + "`";
  c.server = Str(cluster->second.node, "server");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  R2E_RETURN_IF_ERROR(CheckServer(c.server, cwhat + " in " + cluster->second.file));
  R2E_ASSIGN_OR_RETURN(c.ca_pem, PemField(cluster->second, "certificate-authority", cwhat));
  c.ca_origin = cwhat + " in " + cluster->second.file;
  c.insecure_skip_tls_verify = Bool(cluster->second.node, "insecure-skip-tls-verify");
  c.tls_server_name = Str(cluster->second.node, "tls-server-name");

  if (!user_name.empty()) {
    auto user = m.users.find(user_name);
    if (user == m.users.end()) {
      return Status::InvalidArgument("context `" + context + "` names user `" + user_name +
                                     "`, which is not in kubeconfig " + m.files);
    }
    const std::string uwhat = "user `" + user_name + "`";
    const Entry& u = user->second;
    R2E_ASSIGN_OR_RETURN(c.client_cert_pem, PemField(u, "client-certificate", uwhat));
    R2E_ASSIGN_OR_RETURN(c.client_key_pem, PemField(u, "client-key", uwhat));
    if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
      return Status::InvalidArgument(uwhat + " in " + u.file +
                                     " has a client certificate without its key or a key without its certificate");
    }
    c.token = Str(u.node, "token");
    c.token_file = Resolve(Str(u.node, "tokenFile"), u.file);
    if (u.node["exec"]) {
      R2E_ASSIGN_OR_RETURN(KubeExecPlugin p, ExecPlugin(u, uwhat));
      c.exec = std::move(p);
    }
    if (u.node["auth-provider"] && c.token.empty() && c.token_file.empty() && !c.exec &&
        c.client_cert_pem.empty()) {
      return Status::Unimplemented(uwhat + " in " + u.file +
                                   " uses a legacy auth-provider, which r2e does not support; use an exec plugin");
    }
  }
  c.namespace_name = DefaultNamespace(ns_override, Str(ctx->second.node, "namespace"));
  return c;
}

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : list) {
    if (ch == ':') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string EnvOr(const std::optional<std::string>& given, const char* name) {
  if (given) return *given;
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

Result<KubeConfig> LoadKubeConfigFiles(const std::vector<std::string>& files, const std::string& context,
                                       const std::string& namespace_name) {
  if (files.empty()) return Status::InvalidArgument("no kubeconfig file given");
  try {
    Merged m;
    for (const std::string& f : files) {
      m.files += (m.files.empty() ? "" : ":") + f;
      R2E_RETURN_IF_ERROR(MergeFile(f, m));
    }
    return Build(m, context, namespace_name);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("kubeconfig " + (files.size() == 1 ? files[0] : std::string("files")) +
                                   " has a value of the wrong type: " + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("loading kubeconfig: ") + e.what());
  }
}

Result<KubeConfig> LoadInClusterConfig(const std::string& service_host, const std::string& service_port,
                                       const std::string& dir, const std::string& namespace_name) {
  if (service_host.empty() || service_port.empty()) {
    return Status::NotFound("not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  KubeConfig c;
  c.in_cluster = true;
  c.source = "in-cluster";
  const bool v6 = service_host.find(':') != std::string::npos;
  c.server = "https://" + (v6 ? "[" + service_host + "]" : service_host) + ":" + service_port;
  const fs::path d(dir);
  c.token_file = (d / "token").string();
  std::error_code ec;
  if (!fs::exists(c.token_file, ec)) {
    return Status::NotFound("in-cluster configuration: the service account token " + c.token_file + " is missing");
  }
  R2E_ASSIGN_OR_RETURN(c.ca_pem, ReadWholeFile(d / "ca.crt", "in-cluster CA"));
  c.ca_origin = (d / "ca.crt").string();
  std::string ns;
  if (fs::exists(d / "namespace", ec)) {
    auto text = ReadWholeFile(d / "namespace", "in-cluster namespace");
    if (text.ok()) ns = std::string(internal::Trim(*text));
  }
  c.namespace_name = DefaultNamespace(namespace_name, ns);
  return c;
}

Result<KubeConfig> LoadKubeConfig(const KubeConfigLoadOptions& o) {
  std::error_code ec;
  if (!o.kubeconfig.empty()) {
    if (!fs::exists(o.kubeconfig, ec)) return Status::NotFound("kubeconfig " + o.kubeconfig + " does not exist");
    return LoadKubeConfigFiles({o.kubeconfig}, o.context, o.namespace_name);
  }
  const std::string list = EnvOr(o.env_kubeconfig, "KUBECONFIG");
  if (!list.empty()) {
    std::vector<std::string> existing;
    for (const std::string& f : SplitList(list)) {
      if (fs::exists(f, ec)) existing.push_back(f);  // kubectl skips missing entries of the list
    }
    if (existing.empty()) return Status::NotFound("none of the KUBECONFIG files exist: " + list);
    return LoadKubeConfigFiles(existing, o.context, o.namespace_name);
  }
  const std::string home = EnvOr(o.env_home, "HOME");
  if (!home.empty()) {
    const std::string f = (fs::path(home) / ".kube" / "config").string();
    if (fs::exists(f, ec)) return LoadKubeConfigFiles({f}, o.context, o.namespace_name);
  }
  const std::string host = EnvOr(o.env_service_host, "KUBERNETES_SERVICE_HOST");
  const std::string port = EnvOr(o.env_service_port, "KUBERNETES_SERVICE_PORT");
  if (!host.empty()) {
    if (!o.context.empty()) {
      return Status::InvalidArgument("context `" + o.context + "` given but there is no kubeconfig (in-cluster)");
    }
    return LoadInClusterConfig(host, port, o.in_cluster_dir, o.namespace_name);
  }
  return Status::NotFound(
      "no Kubernetes configuration: pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or run in a "
      "cluster (try the test server: scripts/test-apiserver.sh start DIR, then --kubeconfig DIR/kubeconfig)");
}

}  // namespace r2e
