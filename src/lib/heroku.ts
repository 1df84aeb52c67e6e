import {load, located} from './cli-modules.js'

// The classes and flags the commands are built from, from where cli-modules.ts found them (the CLI's
// loaded copies when their versions fit). A module of its own because of its top-level await: library
// modules import cli-modules.ts, so that they load without it.

type CommandModule = typeof import('@heroku-cli/command')
type CoreModule = typeof import('@oclif/core')

const [commandModule, coreModule] = await Promise.all([
  load<CommandModule>(located?.command, () => import('@heroku-cli/command')),
  load<CoreModule>(located?.core, () => import('@oclif/core')),
])

export const {Command, flags} = commandModule
export const {Args, Flags, ux} = coreModule
