// KubeClient: the Kubernetes API over HTTPS and exec websockets. This file
// holds the client's logic (retries with backoff, credential refresh, list
// then watch, exec) and compiles without Beast: the HTTPS wire is
// kube_transport.cc, the exec websocket exec_websocket.cc.
#include "kube/kube_client.h"

#include "kube/client_impl.h"
#include "kube/kube_text.h"

namespace r2e::kube {

namespace {

using Json = nlohmann::json;
using Ms = std::chrono::milliseconds;

}  // namespace

KubeClient::KubeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KubeClient::~KubeClient() = default;

const KubeConfig& KubeClient::config() const { return impl_->options.config; }

KubeClient::Stats KubeClient::stats() const {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  return impl_->stats;
}

Result<std::shared_ptr<KubeClient>> KubeClient::Create(ClientOptions options) {
  return Guarded("client", [&]() -> Result<std::shared_ptr<KubeClient>> {
    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    const KubeConfig& c = impl->options.config;
    R2E_ASSIGN_OR_RETURN(ServerUrl url, ParseServerUrl(c.server));
    impl->endpoint.host = url.host;
    impl->endpoint.port = url.port;
    impl->endpoint.base_path = url.base_path;
    impl->endpoint.server_name = c.tls_server_name.empty() ? url.host : c.tls_server_name;
    impl->endpoint.url = c.server;
    impl->endpoint.ca_origin = c.ca_origin.empty() ? "the system's trust store" : c.ca_origin;
    impl->endpoint.verify = !c.insecure_skip_tls_verify;
    if (impl->options.request_timeout.count() <= 0) impl->options.request_timeout = std::chrono::seconds(30);
    if (impl->options.retry.max_attempts < 1) impl->options.retry.max_attempts = 1;
    impl->creds = std::make_unique<Credentials>(impl->options.config, impl->options.exec_plugin_timeout);
    std::string cert = c.client_cert_pem;
    std::string key = c.client_key_pem;
    if (c.exec && c.token.empty() && c.token_file.empty()) {
      // Run the plugin now: it may supply the client certificate the TLS
      // context needs.
      R2E_ASSIGN_OR_RETURN(ExecCredential first, impl->creds->first_exec());
      if (!first.client_cert_pem.empty()) {
        cert = first.client_cert_pem;
        key = first.client_key_pem;
      }
    }
    R2E_ASSIGN_OR_RETURN(impl->tls, MakeTlsContext(c, cert, key));
    return std::shared_ptr<KubeClient>(new KubeClient(std::move(impl)));
  });
}

Result<HttpResult> KubeClient::request(const std::string& method, const std::string& target,
                                       const std::string& body, bool retry) {
  const std::string what = method + " " + target;
  return Guarded(what, [&]() -> Result<HttpResult> {
    if (!KnownMethod(method)) return Status::InvalidArgument("kube request: unknown method " + method);
    bool refreshed = false;
    for (int attempt = 0;; ++attempt) {
      const bool last = attempt + 1 >= impl_->options.retry.max_attempts;
      R2E_ASSIGN_OR_RETURN(std::string token, impl_->creds->token(refreshed));
      bool sent = false;
      auto r = impl_->roundtrip(method, target, body, token, what, sent);
      if (!r.ok()) {
        // Without `retry`, only a request that never left may go again.
        if (!last && r.status().code() == StatusCode::kUnavailable && (retry || !sent)) {
          impl_->count(&Stats::retries);
          impl_->sleep_backoff(attempt);
          continue;
        }
        return r.status();
      }
      if (r->status == 401 && !refreshed && impl_->creds->refreshable()) {
        refreshed = true;  // a rotated token file or an expired plugin token
        continue;
      }
      // 429 means the server did not act on the request: safe to repeat.
      if (!last && (r->status == 429 || (retry && Retryable(r->status)))) {
        impl_->count(&Stats::retries);
        impl_->sleep_backoff(attempt, ParseRetryAfter(r->retry_after));
        continue;
      }
      return r;
    }
  });
}

Result<nlohmann::json> KubeClient::call(const std::string& method, const std::string& target,
                                        const std::string& what, const std::string& body, bool retry) {
  R2E_ASSIGN_OR_RETURN(HttpResult r, request(method, target, body, retry));
  if (r.status < 200 || r.status >= 300) {
    Status s = ApiStatus(r.status, r.body, what);
    if (r.status == 429) {
      return Status::ResourceExhausted(s.message() + " (still throttled after " +
                                       std::to_string(impl_->options.retry.max_attempts) + " attempts)");
    }
    return s;
  }
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded()) {
    return Status::Internal("kube " + what + ": the API server's answer is not JSON: " + r.body.substr(0, 200));
  }
  return j;
}

Status KubeClient::follow(const std::string& collection, const std::string& query, Clock::time_point deadline,
                          const ObjectFn& on_object) {
  const std::string what = "watch " + collection;
  return Guarded(what, [&]() -> Status {
    int transport_failures = 0;
    for (;;) {
      // List: the current state, and the resourceVersion to watch from.
      if (Clock::now() >= deadline) return Status::Timeout("kube " + what + ": deadline passed");
      auto list = call("GET", collection + (query.empty() ? "" : "?" + query), "list " + collection);
      if (!list.ok()) {
        if (list.status().code() == StatusCode::kUnavailable && ++transport_failures < impl_->options.retry.max_attempts * 4) {
          impl_->sleep_backoff(transport_failures, std::nullopt, deadline);
          continue;
        }
        return list.status();
      }
      const Json items = list->value("items", Json::array());
      bool any = false;
      if (items.is_array()) {
        for (const Json& item : items) {
          any = true;
          R2E_ASSIGN_OR_RETURN(bool done, on_object(item, false));
          if (done) return Status::OK();
        }
      }
      if (!any) {
        R2E_ASSIGN_OR_RETURN(bool done, on_object(Json(), true));
        if (done) return Status::OK();
      }
      std::string rv;
      if (auto md = list->find("metadata"); md != list->end() && md->is_object()) {
        if (auto v = md->find("resourceVersion"); v != md->end() && v->is_string()) rv = v->get<std::string>();
      }
      bool relist = false;
      while (!relist) {
        if (Clock::now() >= deadline) return Status::Timeout("kube " + what + ": deadline passed");
        Status error;
        switch (impl_->watch_once(collection, query, rv, deadline, on_object, error)) {
          case WatchEnd::kDone:
            return error;
          case WatchEnd::kEnded:
            impl_->count(&Stats::watch_reconnects);
            transport_failures = 0;
            break;
          case WatchEnd::kExpired:
            impl_->count(&Stats::relists);
            relist = true;
            break;
          case WatchEnd::kTransport:
            impl_->count(&Stats::watch_reconnects);
            if (++transport_failures >= impl_->options.retry.max_attempts * 4) {
              return error.ok() ? Status::Unavailable("kube " + what + ": the watch keeps failing") : error;
            }
            impl_->sleep_backoff(std::min(transport_failures, 6), std::nullopt, deadline);
            break;
        }
      }
    }
  });
}

Result<std::unique_ptr<ExecStream>> KubeClient::exec(const std::string& ns, const std::string& pod,
                                                     const std::string& container,
                                                     const std::vector<std::string>& argv, Ms timeout) {
  const std::string what = "exec in pod " + ns + "/" + pod;
  return Guarded(what, [&]() -> Result<std::unique_ptr<ExecStream>> {
    if (argv.empty()) return Status::InvalidArgument("kube " + what + ": empty command");
    std::string target = "/api/v1/namespaces/" + QueryEscape(ns) + "/pods/" + QueryEscape(pod) + "/exec?";
    for (const auto& a : argv) target += "command=" + QueryEscape(a) + "&";
    if (!container.empty()) target += "container=" + QueryEscape(container) + "&";
    target += "stdin=true&stdout=true&stderr=true&tty=false";
    target = impl_->endpoint.base_path + target;
    bool refreshed = false;
    for (int attempt = 0;; ++attempt) {
      const bool last = attempt + 1 >= impl_->options.retry.max_attempts;
      R2E_ASSIGN_OR_RETURN(std::string token, impl_->creds->token(refreshed));
      const auto deadline = Clock::now() + std::min(timeout, impl_->options.request_timeout);
      auto stream = OpenExecStream(impl_->tls, impl_->endpoint, target, token, impl_->options.exec_protocols,
                                   deadline, what);
      if (stream.ok()) {
        impl_->count(&Stats::connections_opened);
        return stream;
      }
      const Status s = stream.status();
      if (s.code() == StatusCode::kFailedPrecondition && !refreshed && impl_->creds->refreshable() &&
          s.message().find("refused the credentials") != std::string::npos) {
        refreshed = true;
        continue;
      }
      // Nothing ran yet: throttling and unreachable servers are retried.
      if (!last && (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kResourceExhausted)) {
        impl_->count(&Stats::retries);
        impl_->sleep_backoff(attempt);
        continue;
      }
      return s;
    }
  });
}

Result<ExecRun> KubeClient::exec_run(const std::string& ns, const std::string& pod, const std::string& container,
                                     const std::vector<std::string>& argv, const std::string& input, Ms timeout,
                                     std::size_t max_output, const OutputSink& sink) {
  const std::string what = "exec in pod " + ns + "/" + pod;
  return Guarded(what, [&]() -> Result<ExecRun> {
    const auto deadline = Clock::now() + timeout;
    R2E_ASSIGN_OR_RETURN(std::unique_ptr<ExecStream> stream, exec(ns, pod, container, argv, timeout));
    ExecRun run;
    auto keep = [&](int channel, std::string_view data) {
      if (sink) return sink(channel, data);
      std::string& into = channel == 1 ? run.stdout_data : run.stderr_data;
      std::size_t room = into.size() < max_output ? max_output - into.size() : 0;
      into.append(data.substr(0, std::min(room, data.size())));
      run.dropped_bytes += data.size() - std::min(room, data.size());
    };
    if (!input.empty()) {
      Status s = stream->write(input, deadline);
      if (s.code() == StatusCode::kTimeout) {
        run.timed_out = true;
        return run;
      }
      R2E_RETURN_IF_ERROR(s);
    }
    stream->close_write();
    for (;;) {
      auto f = stream->read_frame(deadline);
      if (!f.ok()) {
        if (f.status().code() == StatusCode::kTimeout) {
          run.timed_out = true;
          return run;
        }
        return f.status();
      }
      if (f->channel < 0) break;
      if (f->channel == 1 || f->channel == 2) keep(f->channel, f->data);
    }
    auto exit = stream->exit_status();
    if (!exit) return Status::Unavailable("kube " + what + ": the exec stream ended without an exit status");
    if (!exit->ok()) return exit->status();
    run.exit_code = **exit;
    return run;
  });
}

}  // namespace r2e::kube
