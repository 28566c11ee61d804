import { TurnAdmission } from '../src/graphql/turn-admission.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('TurnAdmission', () => {
  it('runs at most maxPerTurn tasks a turn, the rest on later turns in the order they came', async () => {
    const admission = new TurnAdmission(3, 1000, undefined, () => 0);
    const ran: number[] = [];
    for (let i = 0; i < 8; i++) admission.run(() => void ran.push(i));
    expect(ran).toEqual([0, 1, 2]);
    expect(admission.queued).toBe(5);
    await tick();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
    await tick();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(admission.queued).toBe(0);
    // With nothing waiting and room left in the turn, a task runs at once.
    await tick();
    admission.run(() => void ran.push(8));
    expect(ran.at(-1)).toBe(8);
  });

  it('stops a turn once budgetMs have passed since its first task began, and a task that throws does not stop the others', async () => {
    let clock = 0;
    const errors: unknown[] = [];
    const admission = new TurnAdmission(
      100,
      2,
      (error) => errors.push(error),
      () => clock,
    );
    const ran: string[] = [];
    admission.run(() => {
      ran.push('a');
      clock += 1.5;
    });
    admission.run(() => {
      ran.push('b');
      clock += 1;
      throw new Error('b failed');
    });
    admission.run(() => void ran.push('c')); // 2.5 ms used: next turn
    expect(ran).toEqual(['a', 'b']);
    expect(errors).toHaveLength(1);
    await tick();
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('runs the tasks run with first (messages of open sockets) before the others (new handshakes), each kind in order', async () => {
    const admission = new TurnAdmission(2, 1000, undefined, () => 0);
    const ran: string[] = [];
    admission.run(() => void ran.push('h1'));
    admission.run(() => void ran.push('h2'));
    admission.run(() => void ran.push('h3')); // the turn is full: waits
    admission.run(() => void ran.push('m1'), true);
    admission.run(() => void ran.push('h4'));
    admission.run(() => void ran.push('m2'), true);
    expect(ran).toEqual(['h1', 'h2']);
    await tick();
    expect(ran).toEqual(['h1', 'h2', 'm1', 'm2']);
    await tick();
    expect(ran).toEqual(['h1', 'h2', 'm1', 'm2', 'h3', 'h4']);
  });

  it('does not count a task that found nothing to do (returned false) against the turn', async () => {
    const admission = new TurnAdmission(2, 1000, undefined, () => 0);
    const ran: string[] = [];
    for (let i = 0; i < 5; i++) admission.run(() => false); // sockets that had gone
    admission.run(() => void ran.push('a'));
    admission.run(() => void ran.push('b'));
    admission.run(() => void ran.push('c'));
    expect(ran).toEqual(['a', 'b']);
    await tick();
    expect(ran).toEqual(['a', 'b', 'c']);
  });
});
