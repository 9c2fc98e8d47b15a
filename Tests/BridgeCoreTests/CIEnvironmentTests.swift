import BridgeCore
import Testing

/// Which CI a command runs under, and the build link (`ci_build_url`) it reports.
@Suite struct CIEnvironmentTests {
  @Test func githubActionsBuildsTheRunURLFromItsVariables() {
    let ci = CIEnvironment.detect([
      "GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "acme/shop",
      "GITHUB_RUN_ID": "9001", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_REF_NAME": "main", "GITHUB_SHA": "0123abcd",
    ])
    #expect(ci.provider == .githubActions)
    #expect(ci.buildURL == "https://github.example/acme/shop/actions/runs/9001")
    #expect(ci.branch == "main")
    #expect(ci.commit == "0123abcd")
    #expect(ci.pipelineIdentity == "github:acme/shop:9001")
    #expect(ci.attempt == 1)
  }

  @Test func githubActionsNamesARerunAndPrefersThePullRequestBranch() {
    let ci = CIEnvironment.detect([
      "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "9001", "GITHUB_RUN_ATTEMPT": "3",
      "GITHUB_HEAD_REF": "feature/x", "GITHUB_REF_NAME": "42/merge",
    ])
    #expect(ci.buildURL == "https://github.com/acme/shop/actions/runs/9001/attempts/3", "github.com when no server is named")
    #expect(ci.branch == "feature/x")
    #expect(ci.attempt == 3)
    // Without a repository there is no run URL to build.
    #expect(CIEnvironment.detect(["GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1"]).buildURL == nil)
  }

  @Test func gitlabCIUsesTheJobURLBranchAndCommit() {
    let ci = CIEnvironment.detect([
      "GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example/acme/shop/-/jobs/77", "CI_COMMIT_REF_NAME": "release/2",
      "CI_COMMIT_SHA": "feedbeef", "CI_PIPELINE_ID": "500", "CI_PROJECT_PATH": "acme/shop", "CI_JOB_ID": "77",
      "CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "4",
    ])
    #expect(ci.provider == .gitlabCI)
    #expect(ci.buildURL == "https://gitlab.example/acme/shop/-/jobs/77")
    #expect(ci.branch == "release/2")
    #expect(ci.commit == "feedbeef")
    #expect(ci.pipelineIdentity == "gitlab:acme/shop:500")
    #expect(ci.attempt == 77)
    #expect(ci.shardIndex == 2 && ci.shardTotal == 4)
    // CI_JOB_URL alone is enough to know it is GitLab.
    #expect(CIEnvironment.detect(["CI_JOB_URL": "https://gitlab.example/j/1"]).provider == .gitlabCI)
  }

  @Test func jenkinsUsesBuildURL() {
    let ci = CIEnvironment.detect([
      "BUILD_URL": "https://jenkins.example/job/shop/12/", "GIT_BRANCH": "origin/main", "GIT_COMMIT": "cafe1234",
    ])
    #expect(ci.provider == .jenkins)
    #expect(ci.buildURL == "https://jenkins.example/job/shop/12/")
    #expect(ci.branch == "origin/main")
    #expect(ci.commit == "cafe1234")
    #expect(ci.pipelineIdentity == nil)
  }

  @Test func buildURLWinsAsTheOfficialReporterOrdersThem() {
    // The official reporter reads BUILD_URL first, then CI_JOB_URL, then GitHub's variables.
    let gitlab = CIEnvironment.detect(["GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example/j/1", "BUILD_URL": "https://b.example/1"])
    #expect(gitlab.provider == .gitlabCI && gitlab.buildURL == "https://b.example/1")
    let github = CIEnvironment.detect(["GITHUB_RUN_ID": "5", "GITHUB_REPOSITORY": "a/b", "BUILD_URL": "https://b.example/2"])
    #expect(github.provider == .githubActions && github.buildURL == "https://b.example/2")
  }

  @Test func circleCIAndNoCI() {
    let circle = CIEnvironment.detect(["CIRCLE_BUILD_URL": "https://circleci.com/gh/a/b/3", "CIRCLE_BRANCH": "dev"])
    #expect(circle.provider == .circleCI && circle.buildURL == "https://circleci.com/gh/a/b/3" && circle.branch == "dev")
    let local = CIEnvironment.detect(["HOME": "/root", "BUILD_URL": "", "GITHUB_ACTIONS": ""])
    #expect(local == CIEnvironment(provider: .local))
  }
}
