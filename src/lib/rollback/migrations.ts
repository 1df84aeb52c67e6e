import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

const git = promisify(execFile)

export interface DeployedMigrations {
  // Migration folder names added between the two commits, oldest first.
  names: string[]
  // Why they could not be listed, when they could not.
  unknown?: string
}

async function hasCommit(cwd: string, commit: string) {
  return git('git', ['cat-file', '-e', `${commit}^{commit}`], {cwd}).then(() => true, () => false)
}

// Prisma migrations deployed since the target: migration folders added between the target's
// commit and the current release's commit, read from the app's git repository in `cwd`.
export async function migrationsAddedBetween(cwd: string, fromCommit: string | null, toCommit: string | null): Promise<DeployedMigrations | undefined> {
  const inRepo = await git('git', ['rev-parse', '--is-inside-work-tree'], {cwd}).then(() => true, () => false)
  if (!inRepo) return undefined
  if (!fromCommit || !toCommit) return {names: [], unknown: 'a release has no commit to compare'}
  for (const commit of [fromCommit, toCommit]) {
    if (!(await hasCommit(cwd, commit))) return {names: [], unknown: `commit ${commit.slice(0, 7)} is not in this repository (git fetch?)`}
  }
  const {stdout} = await git('git', ['diff', '--name-only', '--diff-filter=A', fromCommit, toCommit], {cwd})
  const names = stdout.split('\n')
    .map(path => /(?:^|\/)migrations\/([^/]+)\/migration\.sql$/.exec(path)?.[1])
    .filter((name): name is string => Boolean(name))
  return {names: [...new Set(names)].sort()}
}
