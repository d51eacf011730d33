// Job DSL seed script: creates the Signet build -> sign -> verify -> deploy pipeline job, as
// docker-ci-tool-stack seeds its jobs (a "seed" freestyle job with a "Process Job DSLs" step).
// The job runs templates/jenkins/Jenkinsfile from the seed's workspace, so the job and the
// Jenkinsfile never drift apart; its parameters and credential IDs are declared there.
pipelineJob('signet-build-sign-deploy') {
  description('Build, push, sign with the CI delegation key, verify, deploy by digest (Signet)')
  logRotator {
    numToKeep(30)
  }
  definition {
    cps {
      script(readFileFromWorkspace('templates/jenkins/Jenkinsfile'))
      sandbox()
    }
  }
}
