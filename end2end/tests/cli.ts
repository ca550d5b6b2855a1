// Runs the `curio` binary against the database of the server under test: its SQLite file
// in the Playwright data directory, whatever DATABASE_URL says (CI sets it for the Rust
// tests).
import { execFileSync } from 'node:child_process';

export function curio(args: string[], input?: string): string {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  return execFileSync(process.env.CURIO_BIN!, [...args, '--data-dir', process.env.CURIO_E2E_DATA_DIR!, '--log', 'warn'], {
    encoding: 'utf-8',
    maxBuffer: 512 * 1024 * 1024,
    env,
    input,
  });
}
