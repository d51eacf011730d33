// Runs the shell steps of the CI templates in templates/ the way each CI would: the steps are read
// out of the template files (Jenkinsfile `sh '''…'''` inside `stage(…)`, the Job DSL seed's
// Jenkinsfile, GitHub `run:`, GitLab `script:`), never copied, so a change to a template changes
// what the tests run. Credentials are handed over as each CI does: Jenkins withCredentials `file`
// (a path) and `string` (a variable), GitHub secrets as env values, GitLab File variables (a path).
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { run } from '../harness/proc.js';

/** What the test gives the pipeline: parameters, the secrets in the CI's store, the agent's PATH. */
export interface CiContext {
  workspace: string;
  /** non-secret job parameters / variables: IMAGE, SIGNET_SERVER, SIGNET_ROOT_KEY_ID, DEPLOYMENT */
  params: Record<string, string>;
  /** the trust server's CA as a file (Jenkins parameter, GitLab File variable) */
  caFile: string;
  buildNumber: string;
  secrets: { delegationKeyPem: string; passphrase: string };
  /** the agent's environment (PATH with the tools, HOME, …) */
  env: Record<string, string>;
}

export interface StageResult {
  /** build | push | sign | verify | deploy (GitLab's build job does build and push) */
  stage: string;
  code: number | null;
  output: string;
}

export interface PipelineRun {
  stages: StageResult[];
  /** the first stage that exited non-zero; later stages did not run */
  failed?: string;
  /** everything the pipeline printed (the build log) */
  log: string;
}

/** The pipeline's common stage name for a template's stage/step/job name: its first word, lower case. */
const stageKey = (name: string): string => name.trim().split(/\s+/)[0]!.toLowerCase();

interface ShellStep {
  stage: string;
  /** interpreter argv; the script file is appended */
  shell: string[];
  script: string;
  env: Record<string, string>;
  /** GitHub step id (outputs) */
  id?: string;
  /** GitLab dotenv report file */
  dotenv?: string;
}

async function runSteps(steps: ShellStep[], ctx: CiContext, skip: string[]): Promise<PipelineRun> {
  const stages: StageResult[] = [];
  const scratch = await mkdtemp(path.join(ctx.workspace, '..', 'ci-steps-'));
  const outputs: Record<string, Record<string, string>> = {};
  let dotenv: Record<string, string> = {};
  let n = 0;
  for (const step of steps) {
    if (skip.includes(step.stage)) continue;
    const file = path.join(scratch, `step-${n++}.sh`);
    await writeFile(file, step.script, { mode: 0o700 });
    const outFile = path.join(scratch, `output-${n}`);
    await writeFile(outFile, '');
    const env = {
      ...ctx.env,
      ...dotenv,
      ...resolveExpressions(step.env, { outputs }),
      GITHUB_OUTPUT: outFile,
      RUNNER_TEMP: scratch,
    };
    const r = await run(step.shell[0]!, [...step.shell.slice(1), file], {
      env,
      cwd: ctx.workspace,
      timeoutMs: 120_000,
    });
    const prev = stages.find((s) => s.stage === step.stage);
    const output = r.stdout + r.stderr;
    if (prev) {
      prev.output += output;
      prev.code = r.code;
    } else stages.push({ stage: step.stage, code: r.code, output });
    if (r.code !== 0) return finish(stages, step.stage);
    if (step.id !== undefined) outputs[step.id] = parseKeyValues(await readFile(outFile, 'utf8'));
    if (step.dotenv !== undefined)
      dotenv = { ...dotenv, ...parseKeyValues(await readFile(path.join(ctx.workspace, step.dotenv), 'utf8')) };
  }
  return finish(stages);
}

function finish(stages: StageResult[], failed?: string): PipelineRun {
  return { stages, failed, log: stages.map((s) => s.output).join('') };
}

function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

// ------------------------------------------------------------------ Jenkins

interface Credential {
  kind: 'file' | 'string';
  id: string;
  variable: string;
}

export interface JenkinsStage {
  name: string;
  credentials: Credential[];
  scripts: string[];
}

/** Stages in order, each with its `sh '''…'''` scripts and the withCredentials bindings around them. */
export function jenkinsStages(text: string): JenkinsStage[] {
  const starts = [...text.matchAll(/stage\('([^']+)'\)\s*\{/g)];
  return starts.map((m, i) => {
    const body = text.slice(m.index, starts[i + 1]?.index ?? text.length);
    const credentials = [...body.matchAll(/(file|string)\(credentialsId:\s*'([^']+)',\s*variable:\s*'([^']+)'\)/g)].map(
      (c) => ({ kind: c[1] as 'file' | 'string', id: c[2]!, variable: c[3]! }),
    );
    const scripts = [...body.matchAll(/\bsh\s*'''([\s\S]*?)'''/g)].map((s) => s[1]!);
    if (/\bsh\s*["(]/.test(body))
      throw new Error(`stage ${m[1]}: only sh '''…''' steps are supported (no interpolation)`);
    return { name: m[1]!, credentials, scripts };
  });
}

/** The job parameters the Jenkinsfile declares (Jenkins exports them to sh steps as variables). */
export function jenkinsParameters(text: string): string[] {
  return [...text.matchAll(/string\(name:\s*'([^']+)'/g)].map((m) => m[1]!);
}

/** The Jenkinsfile a Job DSL seed script's pipelineJob runs (readFileFromWorkspace). */
export function seedJenkinsfile(seedText: string): string {
  const m = /pipelineJob\('[^']+'\)[\s\S]*?script\(readFileFromWorkspace\('([^']+)'\)\)/.exec(seedText);
  if (!m) throw new Error('seed script: no pipelineJob with cps { script(readFileFromWorkspace(…)) }');
  return m[1]!;
}

/** Jenkins credential store: file credentials become a file (its path in the variable), strings a variable. */
export async function runJenkins(file: string, ctx: CiContext, skip: string[] = []): Promise<PipelineRun> {
  const text = readFileSync(file, 'utf8');
  const params: Record<string, string> = { ...ctx.params, SIGNET_TLS_CA: ctx.caFile, SIGNET_SIGNER: 'ci' };
  for (const p of jenkinsParameters(text)) if (params[p] === undefined) throw new Error(`no value for parameter ${p}`);
  const secretDir = await mkdtemp(path.join(ctx.workspace, '..', 'jenkins-secret-files-'));
  const store: Record<string, { kind: Credential['kind']; value: string }> = {
    'signet-delegation-key': { kind: 'file', value: ctx.secrets.delegationKeyPem },
    'signet-delegation-passphrase': { kind: 'string', value: ctx.secrets.passphrase },
  };
  const steps: ShellStep[] = [];
  for (const stage of jenkinsStages(text)) {
    const bound: Record<string, string> = {};
    for (const c of stage.credentials) {
      const cred = store[c.id];
      if (cred === undefined || cred.kind !== c.kind) throw new Error(`no ${c.kind} credential ${c.id}`);
      if (c.kind === 'string') bound[c.variable] = cred.value;
      else {
        const f = path.join(secretDir, c.id);
        await writeFile(f, cred.value, { mode: 0o400 });
        bound[c.variable] = f;
      }
    }
    const env = { ...params, BUILD_NUMBER: ctx.buildNumber, WORKSPACE: ctx.workspace, ...bound };
    // Jenkins runs an sh step as `sh -xe script` (durable-task), so every command is traced.
    for (const script of stage.scripts)
      steps.push({ stage: stageKey(stage.name), shell: ['/bin/sh', '-xe'], script, env });
  }
  return runSteps(steps, ctx, skip);
}

// ------------------------------------------------------------------ GitHub Actions

interface GithubStep {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}

/** `${{ ctx.path }}` lookups only (vars, secrets, github, steps.<id>.outputs); anything else throws. */
function resolveExpressions(
  env: Record<string, string>,
  scope: { outputs: Record<string, Record<string, string>>; values?: Record<string, string> },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    out[k] = v.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
      const so = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
      if (so) return scope.outputs[so[1]!]?.[so[2]!] ?? '';
      const value = scope.values?.[expr];
      if (value === undefined) throw new Error(`unsupported or unknown expression \${{ ${expr} }}`);
      return value;
    });
  }
  return out;
}

export function githubSteps(text: string): { env: Record<string, string>; steps: GithubStep[] } {
  const doc = parseYaml(text) as { jobs: Record<string, { env?: Record<string, string>; steps: GithubStep[] }> };
  const jobs = Object.values(doc.jobs);
  if (jobs.length !== 1) throw new Error('the workflow template is expected to have one job');
  return { env: jobs[0]!.env ?? {}, steps: jobs[0]!.steps };
}

export async function runGithub(file: string, ctx: CiContext, skip: string[] = []): Promise<PipelineRun> {
  const { env: jobEnv, steps } = githubSteps(readFileSync(file, 'utf8'));
  const values: Record<string, string> = {
    'github.run_number': ctx.buildNumber,
    'secrets.SIGNET_DELEGATION_KEY': ctx.secrets.delegationKeyPem,
    'secrets.SIGNET_DELEGATION_PASSPHRASE': ctx.secrets.passphrase,
    'vars.SIGNET_TLS_CA_PEM': readFileSync(ctx.caFile, 'utf8'),
  };
  for (const [k, v] of Object.entries(ctx.params)) values[`vars.${k}`] = v;
  const resolvedJobEnv = resolveExpressions(jobEnv, { outputs: {}, values });
  const shellSteps: ShellStep[] = [];
  for (const s of steps) {
    if (s.run === undefined) continue; // `uses:` actions (checkout) have no shell step
    if (s.run.includes('${{')) throw new Error(`step ${s.name ?? '?'}: an expression inside run: (script injection)`);
    // Step env may name steps.<id>.outputs: resolved when the step runs; the rest now.
    const stepEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.env ?? {}))
      stepEnv[k] = /\$\{\{\s*steps\./.test(v) ? v : (resolveExpressions({ [k]: v }, { outputs: {}, values })[k] ?? '');
    shellSteps.push({
      stage: stageKey(s.name ?? 'step'),
      // GitHub's default shell on Linux runners: bash --noprofile --norc -eo pipefail {0}
      shell: ['/bin/bash', '--noprofile', '--norc', '-eo', 'pipefail'],
      script: s.run,
      env: { ...resolvedJobEnv, ...stepEnv },
      id: s.id,
    });
  }
  return runSteps(shellSteps, ctx, skip);
}

// ------------------------------------------------------------------ GitLab CI

interface GitlabJob {
  stage: string;
  script: string[];
  variables?: Record<string, string>;
  artifacts?: { reports?: { dotenv?: string } };
}

export function gitlabJobs(text: string): { variables: Record<string, string>; jobs: [string, GitlabJob][] } {
  const doc = parseYaml(text) as Record<string, unknown> & { stages: string[]; variables?: Record<string, string> };
  const jobs = Object.entries(doc)
    .filter((e): e is [string, GitlabJob] => typeof e[1] === 'object' && e[1] !== null && 'script' in e[1])
    .sort((a, b) => doc.stages.indexOf(a[1].stage) - doc.stages.indexOf(b[1].stage));
  return { variables: doc.variables ?? {}, jobs };
}

/** GitLab expands `$VAR` / `${VAR}` in variables: from the predefined and project variables. */
function expandVars(vars: Record<string, string>, from: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars))
    out[k] = v.replace(/\$\{?(\w+)\}?/g, (_, name: string) => from[name] ?? out[name] ?? '');
  return out;
}

export async function runGitlab(file: string, ctx: CiContext, skip: string[] = []): Promise<PipelineRun> {
  const { variables, jobs } = gitlabJobs(readFileSync(file, 'utf8'));
  const secretDir = await mkdtemp(path.join(ctx.workspace, '..', 'gitlab-file-vars-'));
  const keyFile = path.join(secretDir, 'SIGNET_DELEGATION_KEY');
  await writeFile(keyFile, ctx.secrets.delegationKeyPem, { mode: 0o600 });
  const [registryImage] = [ctx.params.IMAGE!];
  const project: Record<string, string> = {
    CI_REGISTRY_IMAGE: registryImage,
    CI_PIPELINE_IID: ctx.buildNumber,
    CI_PROJECT_DIR: ctx.workspace,
    SIGNET_DELEGATION_KEY: keyFile,
    DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: ctx.secrets.passphrase,
    SIGNET_TLS_CA: ctx.caFile,
    SIGNET_ROOT_KEY_ID: ctx.params.SIGNET_ROOT_KEY_ID!,
  };
  // The test's parameters play the project-level overrides of the template's defaults.
  const vars = { ...expandVars(variables, project), ...pick(ctx.params, ['SIGNET_SERVER', 'DEPLOYMENT']) };
  const steps: ShellStep[] = jobs.map(([name, job]) => ({
    stage: name,
    shell: ['/bin/bash', '-eo', 'pipefail'],
    // The runner prints each command as written ("$ cmd"), then runs it; values are never echoed.
    script: job.script.map((line) => `printf '%s\\n' ${shellQuote(`$ ${line}`)}\n${line}`).join('\n') + '\n',
    env: { ...project, ...vars, ...expandVars(job.variables ?? {}, { ...project, ...vars }) },
    dotenv: job.artifacts?.reports?.dotenv,
  }));
  return runSteps(steps, ctx, skip);
}

function pick(o: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]!]));
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
