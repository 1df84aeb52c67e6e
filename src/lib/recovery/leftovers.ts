import type {Addon} from '../api/addons.js'
import {Api, path} from '../api/client.js'
import {messageOf} from '../errors.js'
import {printable} from '../names.js'
import {upperFirst} from '../render/index.js'
import type {BuildersOf, Planned} from '../runner/plan.js'
import type {Ref} from '../runner/step.js'

// What a promote does not bring along, read after it: the old database's followers (they keep following
// it, serving the old data), the credentials it has beyond the default one that the new database lacks,
// and the Postgres settings (`heroku pg:settings`) in which the two differ. Each is said with the command
// that restores it; none is repaired here, because the API cannot confirm that a repair is what the team
// had (a credential's grants live in the database, a follower's plan and size are a choice). A read that
// fails is said as such, never taken for "nothing differs".

declare module '../runner/plan.js' {
  interface StepKinds {
    'left-behind': {app: string, created: Ref<Addon>, old: {id: string, name: string, plan: string}, advanced: boolean}
  }
}

export interface LeftBehind {
  followers: {name: string, attachment?: string, plan?: string, command: string}[]
  credentials: {name: string, attachedAs: {app: string, name: string}[], commands: string[]}[]
  settings: {name: string, old: unknown, new: unknown, command: string}[]
  // What could not be read, and why: nothing is claimed about it.
  unread: string[]
}

interface Credential {
  name: string
  type?: 'owner' | 'additional'
}

interface AttachmentLike {
  name: string
  namespace: string | null
  app: {name: string}
  addon: {id: string, name: string, plan?: {name: string}}
}

type Settings = Record<string, unknown>

// The credentials endpoint `heroku pg:credentials` reads (a Basic header of the token, as the CLI sends it);
// its answer holds passwords: only the names are kept.
async function credentialNames(api: Api, id: string): Promise<string[]> {
  const auth = `Basic ${Buffer.from(`:${(api.client as {auth?: string}).auth ?? ''}`).toString('base64')}`
  const list = await api.get<Credential[]>(path`/postgres/v0/databases/${id}/credentials`, {data: true, headers: {Authorization: auth}})
  return list.filter(c => c.name !== 'default' && c.type !== 'owner').map(c => c.name).sort()
}

// `heroku pg:settings` (GET /postgres/v0/databases/{id}/config: {name: {value, ...}}), or, on Advanced,
// `heroku data:pg:settings` (GET /data/postgres/v1/{id}/settings: {items: [{name, current}]}).
async function settingsOf(api: Api, id: string, advanced: boolean): Promise<Settings> {
  if (advanced) {
    const {items} = await api.get<{items: {name: string, current: unknown}[]}>(path`/data/postgres/v1/${id}/settings`, {data: true})
    return Object.fromEntries(items.map(i => [i.name, i.current]))
  }
  const config = await api.get<Record<string, {value: unknown}>>(path`/postgres/v0/databases/${id}/config`, {data: true})
  return Object.fromEntries(Object.entries(config).map(([name, setting]) => [name, setting?.value]))
}

// `log_lock_waits` is `heroku pg:settings:log-lock-waits`, `auto_explain.log_analyze` `pg:settings:auto-explain:log-analyze`.
export const settingCommand = (name: string, value: unknown, database: string, app: string, advanced: boolean) => advanced
  ? `heroku data:pg:settings ${database} --set ${name}:${String(value)} --app ${app}`
  : `heroku pg:settings:${name.replaceAll('.', ':').replaceAll('_', '-')} ${database} ${String(value)} --app ${app}`

export function differentSettings(old: Settings, current: Settings, database: string, app: string, advanced: boolean): LeftBehind['settings'] {
  return Object.keys(old).sort().filter(name => JSON.stringify(old[name]) !== JSON.stringify(current[name]))
    .map(name => ({name, old: old[name], new: current[name] ?? null, command: settingCommand(name, old[name], database, app, advanced)}))
}

export function missingCredentials(old: string[], current: string[], attachments: AttachmentLike[], created: Addon, app: string, advanced: boolean): LeftBehind['credentials'] {
  return old.filter(name => !current.includes(name)).map(name => {
    const attachedAs = attachments.filter(a => a.namespace === `credential:${name}`).map(a => ({app: a.app.name, name: a.name}))
    return {
      name, attachedAs,
      commands: [
        `heroku ${advanced ? 'data:pg' : 'pg'}:credentials:create ${created.name} --name ${name} --app ${app}`,
        ...attachedAs.map(a => `heroku addons:attach ${created.name} --credential ${name} --as ${a.name} --app ${a.app} --confirm ${a.app}`),
        `heroku pg:psql ${created.name} --app ${app}   # grant ${name} what it had on the old database`,
      ],
    }
  })
}

// Followers are rows of the v11 info, by URL (no credentials in it): named by the app's attachment whose
// config var points at the same host, port and database, when there is one.
export function followersOf(info: {info: {name: string, values: string[]}[]}, config: Record<string, string>, attachments: AttachmentLike[], app: string, plan: string): LeftBehind['followers'] {
  const sameDatabase = (a: string, b: string) => {
    try {
      const [x, y] = [new URL(a), new URL(b)]
      return x.hostname === y.hostname && x.port === y.port && x.pathname === y.pathname
    } catch {
      return false
    }
  }
  const urls = info.info.find(r => r.name === 'Followers')?.values ?? []
  return urls.map((url, index) => {
    const configVar = Object.keys(config).filter(k => k.endsWith('_URL') && k !== 'DATABASE_URL').find(k => sameDatabase(config[k], url))
    const attachment = configVar ? attachments.find(a => `${a.name}_URL` === configVar && a.app.name === app) : undefined
    const name = attachment ? attachment.addon.name : `follower ${index + 1} (not attached to ${app}: \`heroku pg:info\` on its app names it)`
    const followerPlan = attachment?.addon.plan?.name ?? plan
    return {
      name, ...(attachment && {attachment: attachment.name, plan: followerPlan}),
      command: `heroku addons:create ${followerPlan} --follow DATABASE_URL --app ${app}${attachment ? `, then \`heroku addons:destroy ${attachment.addon.name} --app ${app}\`` : ''}`,
    }
  })
}

// On Advanced, followers are pools of the add-on itself (`heroku data:pg:info` lists them; `data:pg:update` adds one).
export function followerPools(old: AdvancedPools, current: AdvancedPools, database: string, app: string): LeftBehind['followers'] {
  const have = new Set((current.pools ?? []).map(p => p.name))
  return (old.pools ?? []).filter(p => p.name !== 'leader' && !have.has(p.name)).map(p => ({
    name: `follower pool ${p.name} (${p.expected_count} × ${p.expected_level})`,
    command: `heroku data:pg:update ${database} --app ${app}   # add a follower pool: ${p.name}, ${p.expected_count} × ${p.expected_level}`,
  }))
}

type AdvancedPools = {pools?: {name: string, expected_count: number, expected_level: string}[]}

// Each read on its own: one that fails is said, the others still count.
async function read<T>(unread: string[], what: string, reading: () => Promise<T>): Promise<T | undefined> {
  try {
    return await reading()
  } catch (error) {
    unread.push(`${what}: ${printable(messageOf(error).split('\n')[0])}`)
    return undefined
  }
}

export const leftoverSteps: BuildersOf<'left-behind'> = {
  'left-behind': ({app, created, old, advanced}) => ({
    title: `Read what did not come along from ${old.name}: its followers, credentials beyond the default, and settings that differ`,
    async apply(context): Promise<LeftBehind> {
      const {api} = context
      const addon = context.result(created)
      const unread: string[] = []
      const [oldCredentials, newCredentials, oldSettings, newSettings, attachments, followerInfo, pools, config] = await Promise.all([
        read(unread, `credentials of ${old.name}`, () => credentialNames(api, old.id)),
        read(unread, `credentials of ${addon.name}`, () => credentialNames(api, addon.id)),
        read(unread, `settings of ${old.name}`, () => settingsOf(api, old.id, advanced)),
        read(unread, `settings of ${addon.name}`, () => settingsOf(api, addon.id, advanced)),
        read(unread, `attachments of ${old.name}`, () => api.get<AttachmentLike[]>(path`/addons/${old.id}/addon-attachments`)),
        // Advanced has no v11 info; its followers are pools of the add-on itself.
        advanced ? undefined : read(unread, `followers of ${old.name}`, async () => (await import('../api/postgres.js')).databaseInfo(api, old.id)),
        advanced ? read(unread, `follower pools of ${old.name} and ${addon.name}`, () => Promise.all([old.id, addon.id].map(id => api.get<AdvancedPools>(path`/data/postgres/v1/${id}/info`, {data: true})))) : undefined,
        advanced ? undefined : read(unread, `config var names of ${app}`, () => api.get<Record<string, string>>(path`/apps/${app}/config-vars`)),
      ])
      const appAttachments = followerInfo?.info.some(r => r.name === 'Followers') ? await read(unread, `attachments of ${app}`, () => api.get<AttachmentLike[]>(path`/apps/${app}/addon-attachments`, {headers: {'Accept-Inclusion': 'addon:plan'}})) : []
      return {
        followers: followerInfo ? followersOf(followerInfo, config ?? {}, appAttachments ?? [], app, old.plan) : pools ? followerPools(pools[0], pools[1], addon.name, app) : [],
        credentials: oldCredentials && newCredentials ? missingCredentials(oldCredentials, newCredentials, attachments ?? [], addon, app, advanced) : [],
        settings: oldSettings && newSettings ? differentSettings(oldSettings, newSettings, addon.name, app, advanced) : [],
        unread,
      }
    },
    done: (left: LeftBehind) => [
      `${left.followers.length} follower${left.followers.length === 1 ? '' : 's'}`,
      `${left.credentials.length} credential${left.credentials.length === 1 ? '' : 's'}`,
      `${left.settings.length} setting${left.settings.length === 1 ? '' : 's'} left behind`,
      ...(left.unread.length > 0 ? [`not read: ${left.unread.join('; ')}`] : []),
    ].join(', '),
  }),
}

// The step, after the promote and the backup of the new database (it only reads, and never fails).
export const leftBehindStep = (facts: {app: string, database: {id: string, name: string, plan: string, advanced: boolean}}, created: Ref<Addon>): Planned =>
  ({id: 'left-behind', kind: 'left-behind', app: facts.app, created, old: {id: facts.database.id, name: facts.database.name, plan: facts.database.plan}, advanced: facts.database.advanced})

// The closing lines: each thing left behind with the command that restores it.
export function leftBehindLines(left: LeftBehind | undefined, old: string): string[] {
  if (!left) return []
  const lines: string[] = []
  for (const f of left.followers) {
    lines.push(`${f.attachment ? `Follower ${f.attachment} (${f.name})` : upperFirst(f.name)} still follows ${old} and serves its data, not the recovered one. Once the new database can have followers (Heroku needs a while after a fork): \`${f.command.replace(/\s+#.*/, '')}\`.`)
  }
  for (const c of left.credentials) {
    lines.push(`Credential ${c.name} exists on ${old}, not on the new database${c.attachedAs.length > 0 ? ` (attached as ${c.attachedAs.map(a => `${a.name} on ${a.app}`).join(', ')}, which still reach ${old})` : ''}: ${c.commands.map(x => `\`${x.replace(/\s+#.*/, '')}\``).join(', then ')}, and grant it again what it had.`)
  }
  for (const s of left.settings) lines.push(`Setting ${s.name} is ${String(s.old)} on ${old} and ${String(s.new)} on the new database: \`${s.command}\`.`)
  for (const u of left.unread) lines.push(`Could not read the ${u}: compare by hand.`)
  return lines
}
