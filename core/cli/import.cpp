// mcore import: a root filesystem tarball (a file or standard input; plain, gzip or zstd) as an image.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/pull_progress.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/images.hpp"
#include "mcore/image_reference.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

int import_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("message,m", po::value<std::string>(), "set the history comment of the imported image")
    ("platform", po::value<std::string>(), "os/arch[/variant] to record in the image (default: this host's)");
  // clang-format on
  auto parsed =
      parse_verb("import", "[OPTIONS] FILE|- [REPOSITORY[:TAG]]", verb_summary("import"), options, args);
  if (!parsed) return 0;
  const auto& positionals = parsed->positionals;
  if (positionals.empty() || positionals.size() > 2) {
    throw Error("mcore import takes a tarball (or - for standard input) and an optional name", 0,
                "see 'mcore import --help'");
  }

  engine::ImportOptions import;
  import.source = positionals[0];
  if (positionals.size() == 2) {
    const ImageReference reference = parse_image_reference(positionals[1]);
    if (!reference.digest.empty()) {
      throw Error("cannot import as " + positionals[1] + ": a digest names existing content", 0,
                  "name the image REPOSITORY[:TAG]");
    }
    import.name = to_string(reference);
  }
  if (parsed->options.count("message")) import.message = parsed->options["message"].as<std::string>();
  import.platform = parsed->options.count("platform")
                        ? parse_platform(parsed->options["platform"].as<std::string>())
                        : engine::host_platform();

  std::unique_ptr<ByteSource> input;
  if (import.source == "-") {
    if (::isatty(STDIN_FILENO) == 1) {
      throw Error("mcore import - reads the tarball from standard input, which is a terminal", 0,
                  "redirect or pipe a tarball into it, or give its file name");
    }
    input = std::make_unique<engine::FdSource>(STDIN_FILENO, "standard input");
  } else {
    input = std::make_unique<engine::FileSource>(import.source);
  }

  engine::Engine& engine = context.engine();
  engine::ImageStore store(engine.config().data_root);
  try {
    const auto record = engine::import_rootfs(store, *engine.storage(), *input, import);
    std::cout << record.id << '\n';
  } catch (Error& error) {
    error.add_context("import " +
                      (import.source == "-" ? std::string("from standard input") : import.source));
    throw;
  }
  return 0;
}

}  // namespace mcore::cli
