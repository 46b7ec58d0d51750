// The engine starts its plugins in process groups of their own and stops them when it
// ends. If it is killed instead, nothing would stop them: each plugin leaves on its own
// once its parent, the engine, is gone.
export function exitWithEngine(): void {
    const engine = process.ppid;
    setInterval(() => {
        if (process.ppid !== engine) process.exit(1);
    }, 1000).unref();
}
