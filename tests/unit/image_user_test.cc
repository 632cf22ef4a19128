// ResolveImageUser: an image's User resolved against the image's own
// /etc/passwd and /etc/group, as Docker (runc) resolves it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "local/image_root.h"

namespace r2e::internal {
namespace {

namespace fs = std::filesystem;

class ImageUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/r2e-image-user-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ / "etc");
    Write("etc/passwd",
          "root:x:0:0:root:/root:/bin/bash\n"
          "# a comment line\n"
          "broken line without fields\n"
          "agent:x:1234:1234:Agent:/home/agent:/bin/bash\n"
          "svc:x:999:998::/var/lib/svc:/usr/sbin/nologin\n");
    Write("etc/group",
          "root:x:0:\n"
          "users:x:100:svc,agent\n"
          "agent:x:1234:\n"
          "docker:x:4321:agent\n"
          "svc:x:998:\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(root_ / rel) << text; }

  fs::path root_;
};

TEST_F(ImageUserTest, NoUserOrRootIsRoot) {
  for (const char* spec : {"", "root", "0", "0:0", "root:root"}) {
    auto user = ResolveImageUser(root_, spec);
    ASSERT_TRUE(user.ok()) << spec << ": " << user.status().ToString();
    EXPECT_EQ(user->uid, 0u) << spec;
    EXPECT_EQ(user->gid, 0u) << spec;
    EXPECT_EQ(user->home, "/root") << spec;
  }
}

TEST_F(ImageUserTest, ANameGivesItsIdsHomeAndTheGroupsThatListIt) {
  for (const char* spec : {"agent", "1234"}) {
    auto user = ResolveImageUser(root_, spec);
    ASSERT_TRUE(user.ok()) << spec << ": " << user.status().ToString();
    EXPECT_EQ(user->uid, 1234u);
    EXPECT_EQ(user->gid, 1234u);
    EXPECT_EQ(user->home, "/home/agent");
    EXPECT_EQ(user->groups, (std::vector<gid_t>{1234, 100, 4321})) << spec;
  }
}

TEST_F(ImageUserTest, AGroupGivenReplacesThePrimaryGroup) {
  auto by_name = ResolveImageUser(root_, "svc:users");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(by_name->uid, 999u);
  EXPECT_EQ(by_name->gid, 100u);
  EXPECT_EQ(by_name->home, "/var/lib/svc");
  EXPECT_EQ(by_name->groups, std::vector<gid_t>{100});  // a group given: not those listing the user
  auto by_number = ResolveImageUser(root_, "agent:777");  // a gid need not be in /etc/group
  ASSERT_TRUE(by_number.ok()) << by_number.status().ToString();
  EXPECT_EQ(by_number->gid, 777u);
  EXPECT_EQ(by_number->groups, std::vector<gid_t>{777});
}

TEST_F(ImageUserTest, AnUnknownNumberRunsWithGroupZeroAndHomeSlash) {
  auto user = ResolveImageUser(root_, "5000");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->uid, 5000u);
  EXPECT_EQ(user->gid, 0u);
  EXPECT_EQ(user->home, "/");
  EXPECT_EQ(user->groups, std::vector<gid_t>{0});
}

TEST_F(ImageUserTest, UnknownNamesAndBadFormsAreClearErrors) {
  auto no_user = ResolveImageUser(root_, "nobody-here");
  EXPECT_EQ(no_user.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_user.status().message().find("unable to find user nobody-here"), std::string::npos)
      << no_user.status().ToString();
  auto no_group = ResolveImageUser(root_, "agent:wheel");
  EXPECT_EQ(no_group.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_group.status().message().find("unable to find group wheel"), std::string::npos);
  for (const char* bad : {":users", "agent:", "99999999999"}) {
    EXPECT_FALSE(ResolveImageUser(root_, bad).ok()) << bad;
  }
}

TEST_F(ImageUserTest, APasswdLinkedOutOfTheImageIsReadInsideIt) {
  // An image whose /etc/passwd is an absolute symlink: it resolves inside the
  // image's root (to itself, a loop), never to the host's /etc/passwd, whose
  // "root" entry would otherwise be found.
  fs::remove(root_ / "etc/passwd");
  fs::create_symlink("/etc/passwd", root_ / "etc/passwd");
  auto user = ResolveImageUser(root_, "root");
  EXPECT_EQ(user.status().code(), StatusCode::kInvalidArgument) << "read the host's /etc/passwd";
}

}  // namespace
}  // namespace r2e::internal
