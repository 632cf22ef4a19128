// MetricsServer: serves a text page over HTTP on a loopback port, for a
// Prometheus scrape (e.g. PrometheusText of a RolloutScheduler's stats).
//
//   auto server = r2e::MetricsServer::Start(9464, [&] {
//     return r2e::PrometheusText(scheduler->stats());
//   }).value();
//   // curl http://127.0.0.1:9464/metrics
//
// It listens on 127.0.0.1 only. GET /metrics (and GET /) answer 200 with
// render()'s text as "text/plain; version=0.0.4"; other paths 404, other
// methods 405. One request per connection, one connection at a time, each
// bounded by a 5 s deadline, so a slow or hostile client delays a scrape but
// cannot stop the server. render() runs on the server's thread, once per
// request. Thread-safety: the object is not shared; destroying it stops the
// server and joins its thread.
#ifndef R2E_METRICS_SERVER_H_
#define R2E_METRICS_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "r2e/status.h"

namespace r2e {

class MetricsServer {
 public:
  // Listens on 127.0.0.1:port (0: a free port, see port()). InvalidArgument
  // for a port outside 0..65535; Unavailable when it cannot listen (the
  // port is taken).
  static Result<std::unique_ptr<MetricsServer>> Start(int port, std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }
  // Requests answered so far.
  long long served() const;

 private:
  struct State;
  MetricsServer(std::unique_ptr<State> state, int port);
  std::unique_ptr<State> state_;
  int port_ = 0;
};

}  // namespace r2e

#endif  // R2E_METRICS_SERVER_H_
