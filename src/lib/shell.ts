// A command line to copy and paste: every argument that a shell would read differently is quoted.
export const shellQuote = (args: string[]) =>
  args.map(arg => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`).join(' ')
