#pragma once

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

// A real HTTP peer for tests of troupe's HTTP clients (which use libcurl):
// a cpp-httplib server on an ephemeral 127.0.0.1 port, and a loopback port
// on which nothing listens. Used by runtime_tests and actors_tests.

namespace troupe::test {

/// Serves the routes `routes` registers, from construction until
/// destruction, on a thread of its own. Throws std::runtime_error when no
/// loopback port can be bound.
/// Handlers that must keep a request open call hold(); the destructor
/// releases every held request first, so it never waits out their limits.
class loopback_http {
public:
  explicit loopback_http(const std::function<void(httplib::Server&)>& routes) {
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0)
      throw std::runtime_error{"cannot bind a loopback port"};
    thread_ = std::thread{[this] {
      server_.listen_after_bind();
      listen_returned_ = true;
    }};
    // stop() is a no-op until the accept loop runs, and cpp-httplib 0.11
    // has no call that waits for it, so poll.
    while (!server_.is_running() && !listen_returned_)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  loopback_http(const loopback_http&) = delete;
  loopback_http& operator=(const loopback_http&) = delete;
  ~loopback_http() {
    {
      std::lock_guard<std::mutex> lock{mutex_};
      released_ = true;
    }
    released_cv_.notify_all();
    server_.stop();
    thread_.join();
  }

  int port() const {
    return port_;
  }

  /// "http://127.0.0.1:PORT" followed by `path`.
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  /// Blocks the calling handler until the server is being destroyed or
  /// `limit` has passed, whichever comes first.
  void hold(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock{mutex_};
    released_cv_.wait_for(lock, limit, [this] { return released_; });
  }

private:
  httplib::Server server_;
  int port_ = 0;
  std::atomic<bool> listen_returned_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable released_cv_;
  bool released_ = false; ///< Guarded by mutex_.
};

/// A loopback port nobody listens on: bound, then closed again. Another
/// process could take it in between; on a test machine that is rare enough.
inline int loopback_closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

} // namespace troupe::test
