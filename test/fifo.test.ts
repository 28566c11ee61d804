import { Fifo } from '../src/fifo.js';

describe('Fifo', () => {
  it('gives items back in the order they were pushed, skipping those removed from the middle', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 5; i++) fifo.push(i);
    expect(fifo.remove((n) => n === 2)).toBe(2);
    expect(fifo.remove((n) => n === 2)).toBeUndefined();
    expect(fifo.length).toBe(4);
    expect([fifo.shift(), fifo.shift(), fifo.shift(), fifo.shift(), fifo.shift()]).toEqual([0, 1, 3, 4, undefined]);
    expect(fifo.length).toBe(0);
  });

  it('keeps the order across the dropping of a long consumed front', () => {
    const fifo = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      fifo.push(i);
      if (i % 3 === 2) out.push(fifo.shift()!);
    }
    expect(fifo.remove((n) => n === 4000)).toBe(4000);
    for (let n = fifo.shift(); n !== undefined; n = fifo.shift()) out.push(n);
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i).filter((i) => i !== 4000));
  });
});
