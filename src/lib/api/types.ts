import type * as Schema from '@heroku-cli/schema'

// The Platform API's records as this plugin reads them, and as the sandbox (src/sandbox/heroku/state.ts)
// keeps them: the types of @heroku-cli/schema (type-only, erased at build), with the fields the plugin
// relies on required, and the fields the schema does not know added.

// A schema type without its `[k: string]: unknown`, so that a misspelt field is an error, not `unknown`.
type Known<T> = {[K in keyof T as string extends K ? never : number extends K ? never : K]: T[K]}

// A schema type with every field optional but `K`, which the plugin relies on being there.
type Having<T, K extends keyof Known<T>> = Partial<Known<T>> & Required<Pick<Known<T>, K>>

export interface Release extends Omit<Having<Schema.Release, 'id' | 'version' | 'description' | 'created_at' | 'current'>, 'status'> {
  // Since October 2025 a release older than 30 days and 20 releases expires: its slug is deleted.
  status: NonNullable<Schema.Release['status']> | 'expired'
  // Not in the schema: whether `releases:rollback` may take the release, and a Fir release's image.
  eligible_for_rollback: boolean
  oci_image?: {id: string} | null
}

export interface Slug extends Omit<Having<Schema.Slug, 'id' | 'commit'>, 'blob'> {
  // The sandbox answers null for a slug it has no archive of.
  blob?: Schema.Slug['blob'] | null
}

export type AppInfo = Having<Schema.App, 'id' | 'name' | 'maintenance'>

// A process type of the app's formation.
export type Process = Having<Schema.Formation, 'type' | 'quantity' | 'size' | 'command'>

export interface Dyno extends Having<Schema.Dyno, 'name' | 'type' | 'state'> {
  release: {version: number}
}

export interface Addon extends Omit<Having<Schema.AddOn, 'id' | 'name' | 'state' | 'plan' | 'app' | 'config_vars'>, 'state'> {
  // The core CLI waits while an add-on it destroys is `deprovisioning`, which the schema does not list.
  state: NonNullable<Schema.AddOn['state']> | 'deprovisioning'
  plan: {name: string}
  app: {id: string, name: string}
}

export interface Attachment extends Omit<Having<Schema.AddOnAttachment, 'id' | 'name' | 'namespace' | 'app'>, 'addon'> {
  addon: {id: string, name: string, app?: {name: string}}
  app: {id: string, name: string}
}

// A backup or restore of the Postgres Data API, which the schema does not cover.
export interface Transfer {
  uuid: string
  num: number
  from_name: string
  from_type: string
  to_name: string
  to_type: string
  to_url: string
  succeeded: boolean | null
  created_at: string
  finished_at: string | null
  processed_bytes: number
  schedule?: {uuid: string} | null
  logs?: {message: string}[]
}
