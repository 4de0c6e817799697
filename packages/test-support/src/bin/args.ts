/** `--port N`, else `PORT`, else 0 (a free port). */
export function portArgument(argv = process.argv.slice(2), env = process.env): number {
  const index = argv.indexOf('--port');
  const raw = index >= 0 ? argv[index + 1] : env.PORT;
  const port = Number(raw ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`invalid port: ${raw}`);
    process.exit(2);
  }
  return port;
}
