import type {KindsOf} from '../runner/actions.js'
import {otherApp} from '../runner/actions.js'
import type {Reapplied} from './reapply.js'

// The compensation of a revert coupled with a code rollback: the reverted migrations applied again.

declare module '../runner/actions.js' {
  interface ActionKinds {
    // `database` names the config var (DATABASE_URL), never its value.
    'reapply-migrations': {app: string, database: string, migrations: Reapplied[]}
  }
}

const connect = async () => Promise.all([import('./reapply.js'), import('../postgres/connect.js')])

export const migrationKinds: KindsOf<'reapply-migrations'> = {
  'reapply-migrations': {
    title: ({migrations}) => `Apply the reverted migrations again (${migrations.map(m => m.name).join(', ')})`,
    command: ({app, database}) => `DATABASE_URL="$(heroku config:get ${database} --app ${app})" npx prisma migrate deploy`,
    async perform(api, {app, database, migrations}) {
      const [{reapplyMigrations}, {resolveAppDatabase, withConnection}] = await connect()
      await withConnection(await resolveAppDatabase(api, app, database), ({client, schema}) => reapplyMigrations(client, schema, migrations))
    },
    async isDone(api, {app, database, migrations}) {
      const [{areApplied}, {resolveAppDatabase, withConnection}] = await connect()
      return withConnection(await resolveAppDatabase(api, app, database), ({client, schema}) => areApplied(client, schema, migrations.map(m => m.name)))
    },
    // The SQL must be what the database itself recorded when migrate:down reverted these migrations.
    async distrust(api, action, origin) {
      const other = otherApp(action, origin)
      if (other) return other
      if (!/^[A-Z][A-Z0-9_]*$/.test(action.database)) return `${JSON.stringify(action.database)} is not a config var name`
      const [{unrecordedReverts}, {resolveAppDatabase, withConnection}] = await connect()
      const unknown = await withConnection(await resolveAppDatabase(api, action.app, action.database), ({client}) => unrecordedReverts(client, action.migrations))
      return unknown.length > 0 ? `the database has no record of reverting ${unknown.join(', ')} with that SQL` : undefined
    },
  },
}
