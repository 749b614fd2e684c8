// mcore login: check credentials against a registry and save them where the registry driver reads them
// (for the docker driver: ~/.docker/config.json or its credential helper, as `docker login` does).
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <iterator>
#include <optional>

#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

constexpr const char* kNonInteractiveHint =
    "pass -u USER and the password on stdin: mcore login -u USER --password-stdin [SERVER]";

// The terminal settings a signal must restore when it ends mcore during the password prompt: a signal
// handler has no other way to reach them. Set only while an EchoOff exists.
termios saved_terminal{};

void restore_terminal_and_die(int signal) {
  ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
  std::signal(signal, SIG_DFL);
  std::raise(signal);  // delivered with the default action once this handler returns
}

// Turns the terminal's echo off for a password, and back on however the prompt ends.
class EchoOff {
 public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &saved_terminal) != 0)
      throw Error::from_errno("read the terminal settings");
    struct sigaction action {};
    action.sa_handler = restore_terminal_and_die;
    for (std::size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &action, &old_actions_[i]);
    termios quiet = saved_terminal;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;
  ~EchoOff() {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
    for (std::size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &old_actions_[i], nullptr);
  }

 private:
  static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  struct sigaction old_actions_[std::size(kSignals)]{};
};

// Prints `prompt` and reads one line from the terminal on stdin; echo off for secrets, before the prompt
// shows, so that nothing typed after it is echoed.
std::string prompt_line(const std::string& prompt, bool secret) {
  std::optional<EchoOff> echo_off;
  if (secret) echo_off.emplace();
  std::cout << prompt << std::flush;
  std::string line;
  const bool read = static_cast<bool>(std::getline(std::cin, line));
  if (secret) {
    echo_off.reset();
    std::cout << '\n';  // the user's Enter was not echoed
  }
  if (!read) throw Error("login cancelled: stdin ended at the \"" + prompt + "\" prompt");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

int login_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("username,u", po::value<std::string>(), "user name")
    ("password,p", po::value<std::string>(), "password (visible to other users of this host: prefer --password-stdin)")
    ("password-stdin", po::bool_switch(), "read the password from stdin");
  // clang-format on
  auto parsed = parse_verb("login", "[OPTIONS] [SERVER]", verb_summary("login"), options, args);
  if (!parsed) return 0;
  if (parsed->positionals.size() > 1) {
    throw Error("mcore login takes at most one server", 0,
                "put the options before SERVER; see 'mcore login --help'");
  }
  const std::string server = parsed->positionals.empty() ? "docker.io" : parsed->positionals[0];
  const bool password_stdin = parsed->options["password-stdin"].as<bool>();
  std::string username =
      parsed->options.count("username") ? trimmed(parsed->options["username"].as<std::string>()) : "";
  std::string password;

  if (parsed->options.count("password")) {
    if (password_stdin) throw Error("--password and --password-stdin are mutually exclusive");
    std::cerr << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
    password = parsed->options["password"].as<std::string>();
  } else if (password_stdin) {
    if (username.empty()) throw Error("--password-stdin needs --username", 0, kNonInteractiveHint);
    password.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (!password.empty() && password.back() == '\n') password.pop_back();
    if (!password.empty() && password.back() == '\r') password.pop_back();
  }

  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  if (username.empty()) {
    if (!terminal) throw Error("cannot ask for a user name: stdin is not a terminal", 0, kNonInteractiveHint);
    username = trimmed(prompt_line("Username: ", false));
    if (username.empty()) throw Error("a user name is required to log in to " + server);
  }
  if (password.empty() && !password_stdin) {
    if (!terminal) throw Error("cannot ask for a password: stdin is not a terminal", 0, kNonInteractiveHint);
    password = prompt_line("Password: ", true);
  }
  if (password.empty()) throw Error("a password is required to log in to " + server);

  context.engine().registry()->login(server, Credentials{username, password, ""});
  std::cout << "Login Succeeded\n";
  return 0;
}

}  // namespace mcore::cli
