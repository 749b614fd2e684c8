// Docker's syntax for the values of `mcore run` flags (engine/container/flag_syntax.hpp).
#include "engine/container/flag_syntax.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <fstream>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

template <class Function>
std::string error_of(Function function) {
  try {
    function();
  } catch (const Error& error) {
    return std::string(error.what()) + "; " + error.hint();
  }
  return "no error";
}

TEST(ParseSize, AcceptsDockersUnits) {
  EXPECT_EQ(parse_size("--memory", "1024"), 1024);
  EXPECT_EQ(parse_size("--memory", "64b"), 64);
  EXPECT_EQ(parse_size("--memory", "4k"), 4096);
  EXPECT_EQ(parse_size("--memory", "512m"), 512LL << 20);
  EXPECT_EQ(parse_size("--memory", "512MB"), 512LL << 20);
  EXPECT_EQ(parse_size("--memory", "1g"), 1LL << 30);
  EXPECT_EQ(parse_size("--memory", "1.5G"), 3LL << 29);
  EXPECT_EQ(parse_size("--memory", "2t"), 2LL << 40);
}

TEST(ParseSize, RefusesGarbageNamingFlagAndValue) {
  for (const char* bad : {"12xb", "", "m", "-1", "1..5g", "1 g b", "0x10"}) {
    auto message = error_of([&] { parse_size("--memory", bad); });
    EXPECT_NE(message.find(std::string("invalid size \"") + bad + "\" for --memory"), std::string::npos) << message;
    EXPECT_NE(message.find("512m"), std::string::npos) << "the hint shows the form: " << message;
  }
}

TEST(ParseCpus, ConvertsToNanoCpusWithinTheHostsCpus) {
  EXPECT_EQ(parse_cpus("1.5", 2), 1'500'000'000);
  EXPECT_EQ(parse_cpus("0.01", 2), 10'000'000);
  EXPECT_EQ(parse_cpus("2", 2), 2'000'000'000);
  EXPECT_NE(error_of([] { parse_cpus("3", 2); }).find("from 0.01 to 2"), std::string::npos);
  EXPECT_NE(error_of([] { parse_cpus("0", 2); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([] { parse_cpus("one", 2); }).find("invalid value \"one\" for --cpus"), std::string::npos);
}

TEST(ParseVolume, BindsWithModes) {
  auto rw = parse_volume("/tmp:/data");
  EXPECT_EQ(rw.host_path, "/tmp");
  EXPECT_EQ(rw.container_path, "/data");
  EXPECT_FALSE(rw.read_only);
  EXPECT_TRUE(parse_volume("/tmp:/data:ro").read_only);
  EXPECT_FALSE(parse_volume("/tmp:/data:rw").read_only);
  EXPECT_EQ(rw.volume, "") << "a host path is a bind mount";
}

TEST(ParseVolume, IdmapOptionAloneOrWithRo) {
  EXPECT_FALSE(parse_volume("/tmp:/data").idmap);
  auto mapped = parse_volume("/tmp:/data:idmap");
  EXPECT_TRUE(mapped.idmap);
  EXPECT_FALSE(mapped.read_only);
  auto both = parse_volume("/tmp:/data:ro,idmap");
  EXPECT_TRUE(both.idmap);
  EXPECT_TRUE(both.read_only);
  EXPECT_NE(error_of([] { parse_volume("/tmp:/data:ro,idmapx"); }).find("invalid volume option \"idmapx\""),
            std::string::npos);
}

TEST(ParseVolume, NamedAndAnonymousVolumes) {
  auto named = parse_volume("cache:/var/cache:ro");
  EXPECT_EQ(named.volume, "cache");
  EXPECT_TRUE(named.host_path.empty()) << "the volume's directory is known at run";
  EXPECT_EQ(named.container_path, "/var/cache");
  EXPECT_TRUE(named.read_only);
  auto anonymous = parse_volume("/scratch");
  EXPECT_EQ(anonymous.volume, "");
  EXPECT_TRUE(anonymous.host_path.empty());
  EXPECT_EQ(anonymous.container_path, "/scratch");
}

TEST(ParseVolume, RefusesBadSpecs) {
  EXPECT_NE(error_of([] { parse_volume("/a:/b:ro:x"); }).find("use -v /host/path:/container/path[:ro]"), std::string::npos);
  EXPECT_NE(error_of([] { parse_volume("scratch"); }).find("\"scratch\" is not absolute"), std::string::npos);
  EXPECT_NE(error_of([] { parse_volume("x:/data"); }).find("invalid volume name \"x\""), std::string::npos);
  EXPECT_NE(error_of([] { parse_volume("-bad:/data"); }).find("invalid volume name"), std::string::npos);
  EXPECT_NE(error_of([] { parse_volume("/tmp:data"); }).find("\"data\" is not absolute"), std::string::npos);
  EXPECT_NE(error_of([] { parse_volume("/tmp:/data:rx"); }).find("invalid volume option \"rx\""), std::string::npos);
  EXPECT_NE(error_of([] { parse_volume("/no/such/dir:/data"); }).find("volume source /no/such/dir does not exist"),
            std::string::npos);
}

TEST(ParsePublish, DockersForms) {
  auto port = parse_publish("8080:80");
  EXPECT_EQ(port.host_ip, "");
  EXPECT_EQ(port.host_port, 8080);
  EXPECT_EQ(port.container_port, 80);
  EXPECT_EQ(port.protocol, "tcp");
  port = parse_publish("127.0.0.1:5353:53/udp");
  EXPECT_EQ(port.host_ip, "127.0.0.1");
  EXPECT_EQ(port.host_port, 5353);
  EXPECT_EQ(port.container_port, 53);
  EXPECT_EQ(port.protocol, "udp");
  port = parse_publish("80");
  EXPECT_EQ(port.host_port, 0) << "a free host port is chosen at start";
  EXPECT_EQ(port.container_port, 80);
  port = parse_publish("127.0.0.1::80");
  EXPECT_EQ(port.host_ip, "127.0.0.1");
  EXPECT_EQ(port.host_port, 0);
  EXPECT_EQ(parse_publish("0.0.0.0:80:80").host_ip, "") << "every address";
  port = parse_exposed_port("53/udp");
  EXPECT_EQ(port.container_port, 53);
  EXPECT_EQ(port.protocol, "udp");
  EXPECT_EQ(parse_exposed_port("8080").protocol, "tcp");
}

TEST(ParsePublish, RefusesWhatItCannotPublish) {
  EXPECT_NE(error_of([] { parse_publish("80:99999"); }).find("invalid port \"99999\""), std::string::npos);
  EXPECT_NE(error_of([] { parse_publish("0"); }).find("invalid port"), std::string::npos);
  EXPECT_NE(error_of([] { parse_publish("8000-8010:80"); }).find("port ranges are not supported"), std::string::npos);
  EXPECT_NE(error_of([] { parse_publish("80/sctp"); }).find("unsupported protocol \"sctp\""), std::string::npos);
  EXPECT_NE(error_of([] { parse_publish("localhost:80:80"); }).find("invalid host address"), std::string::npos);
  EXPECT_NE(error_of([] { parse_publish("::1:80:80"); }).find("IPv6"), std::string::npos);
  EXPECT_NE(error_of([] { parse_publish("web:80"); }).find("invalid port \"web\""), std::string::npos);
}

TEST(ParseTmpfs, DefaultsAndOptions) {
  auto plain = parse_tmpfs("/run");
  EXPECT_EQ(plain.container_path, "/run");
  EXPECT_EQ(plain.flags, static_cast<unsigned long>(MS_NOEXEC | MS_NOSUID | MS_NODEV));
  EXPECT_EQ(plain.data, "");
  auto custom = parse_tmpfs("/scratch:ro,exec,size=64m,mode=1777");
  EXPECT_EQ(custom.flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_RDONLY));
  EXPECT_EQ(custom.data, "size=64m,mode=1777");
  EXPECT_NE(error_of([] { parse_tmpfs("/x:bogus"); }).find("unknown --tmpfs option \"bogus\""), std::string::npos);
  EXPECT_NE(error_of([] { parse_tmpfs("x"); }).find("not absolute"), std::string::npos);
}

TEST(ParseUser, NamesAndIdsWithOptionalGroup) {
  EXPECT_EQ(parse_user("1000").user, "1000");
  EXPECT_FALSE(parse_user("1000").group);
  EXPECT_EQ(parse_user("1000:1001").group, "1001");
  EXPECT_EQ(parse_user("www-data:adm").user, "www-data");
  EXPECT_EQ(parse_user("www-data:adm").group, "adm");
  for (const char* bad : {"", "1000:", ":1", "1:2:3", "a b", "a/b"}) {
    EXPECT_NE(error_of([&] { parse_user(bad); }).find("invalid --user"), std::string::npos) << bad;
  }
}

TEST(Environment, FlagsFilesAndDefaults) {
  ::setenv("MCORE_TEST_INHERITED", "from-host", 1);
  ::unsetenv("MCORE_TEST_UNSET");
  EXPECT_EQ(parse_env({"A=1", "MCORE_TEST_INHERITED", "MCORE_TEST_UNSET", "B="}),
            (std::vector<std::string>{"A=1", "MCORE_TEST_INHERITED=from-host", "B="}));
  EXPECT_NE(error_of([] { parse_env({"=x"}); }).find("invalid environment variable"), std::string::npos);

  test::TempDir dir("mcore-env");
  std::ofstream(dir.path() / "env") << "# comment\n\n  SPACED=yes\nPLAIN=1\n";
  EXPECT_EQ(read_env_file(dir.path() / "env"), (std::vector<std::string>{"SPACED=yes", "PLAIN=1"}));
  EXPECT_NE(error_of([&] { read_env_file(dir.path() / "missing"); }).find("cannot read env file"), std::string::npos);

  auto env = finish_environment({"PATH=/bin", "X=1", "X=2"}, "box", true);
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "HOSTNAME=box", "TERM=xterm", "X=2"}));
}

TEST(SecurityOptions, DockersSpellings) {
  EXPECT_TRUE(parse_security_options({"no-new-privileges"}).no_new_privileges);
  EXPECT_TRUE(parse_security_options({"no-new-privileges:true"}).no_new_privileges);
  EXPECT_FALSE(parse_security_options({"no-new-privileges=false"}).no_new_privileges);
  EXPECT_EQ(parse_security_options({"seccomp=unconfined"}).seccomp, SeccompMode::unconfined);
  auto file = parse_security_options({"seccomp=/etc/profile.json"});
  EXPECT_EQ(file.seccomp, SeccompMode::file);
  EXPECT_EQ(file.seccomp_file, "/etc/profile.json");
  EXPECT_NE(error_of([] { parse_security_options({"apparmor=x"}); }).find("unsupported --security-opt"),
            std::string::npos);
}

TEST(Names, ContainerNamesAndHostnames) {
  EXPECT_NO_THROW(validate_container_name("web-1.prod_a"));
  for (const char* bad : {"a", "-x", "has space", "sl/ash", ""}) {
    EXPECT_NE(error_of([&] { validate_container_name(bad); }).find("invalid container name"), std::string::npos) << bad;
  }
  EXPECT_NO_THROW(validate_hostname("web-1.example"));
  const std::string too_long(65, 'a');
  for (const char* bad : {"-x", "a_b", "x-", too_long.c_str()}) {
    EXPECT_NE(error_of([&] { validate_hostname(bad); }).find("invalid hostname"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace mcore::engine
