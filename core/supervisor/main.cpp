// mcore-supervisor: started only by mcore (engine/start/container_launch.cpp builds its command line), never
// by hand. Options name the descriptors it inherited; the words after "--" are the exit command.
#include <fcntl.h>
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "supervisor/supervisor.hpp"

namespace {

int number(const char* text) { return static_cast<int>(std::strtol(text, nullptr, 10)); }

}  // namespace

int main(int argc, char** argv) {
  static const option kOptions[] = {
      {"id", required_argument, nullptr, 'i'},        {"log", required_argument, nullptr, 'l'},
      {"log-max-size", required_argument, nullptr, 's'}, {"log-max-files", required_argument, nullptr, 'n'},
      {"exit-file", required_argument, nullptr, 'x'}, {"socket", required_argument, nullptr, 'k'},
      {"pidfd", required_argument, nullptr, 'p'},     {"stdout", required_argument, nullptr, 'o'},
      {"stderr", required_argument, nullptr, 'e'},    {"pty", required_argument, nullptr, 't'},
      {"stdin", required_argument, nullptr, 'I'},     {"listen", required_argument, nullptr, 'L'},
      {"client", required_argument, nullptr, 'c'},    {"hold", required_argument, nullptr, 'H'},
      {"client-takes-exit", no_argument, nullptr, 'T'}, {"lock-fd", required_argument, nullptr, 'K'},
      {nullptr, 0, nullptr, 0},
  };
  mcore::supervisor::SupervisorOptions options;
  int option;
  while ((option = ::getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    switch (option) {
      case 'i': options.container_id = optarg; break;
      case 'l': options.log_path = optarg; break;
      case 's': options.log.max_size = std::strtoull(optarg, nullptr, 10); break;
      case 'n': options.log.max_files = static_cast<unsigned>(number(optarg)); break;
      case 'x': options.exit_file = optarg; break;
      case 'k': options.socket_path = optarg; break;
      case 'p': options.init_pidfd = number(optarg); break;
      case 'o': options.stdout_fd = number(optarg); break;
      case 'e': options.stderr_fd = number(optarg); break;
      case 't': options.pty_fd = number(optarg); break;
      case 'I': options.stdin_fd = number(optarg); break;
      case 'L': options.listen_fd = number(optarg); break;
      case 'c': options.client_fd = number(optarg); break;
      case 'T': options.client_takes_exit = true; break;
      case 'K': options.lock_fd = number(optarg); break;
      // Kept open, untouched, for the container's life (the sockets reserving its published ports);
      // they close when the supervisor execs the exit command.
      case 'H': ::fcntl(number(optarg), F_SETFD, FD_CLOEXEC); break;
      default: std::fprintf(stderr, "mcore-supervisor: started by mcore only\n"); return 2;
    }
  }
  for (int i = optind; i < argc; ++i) options.exit_command.emplace_back(argv[i]);
  if (options.init_pidfd < 0 || options.lock_fd < 0 || options.exit_command.empty() || options.log_path.empty()) {
    std::fprintf(stderr, "mcore-supervisor: started by mcore only\n");
    return 2;
  }
  return mcore::supervisor::run_supervisor(options);
}
