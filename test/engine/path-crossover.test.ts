import { crossover } from '../../src/engine/path-profile';

describe('the crossover between the stage chain and the one graph', () => {
  const at = (graphMs: number[], chainMs: number[]): number => crossover({ sizes: [1, 2, 4, 8], graphMs, chainMs });

  it('is the first measured size from which the graph stays cheaper', () => {
    expect(at([3, 2, 1, 1], [1, 1.5, 2, 3])).toBe(4);
    expect(at([1, 1, 1, 1], [2, 2, 2, 2])).toBe(1);
  });

  it('ignores a size where the graph won by chance below one where it lost', () => {
    expect(at([1, 3, 1, 1], [2, 2, 2, 2])).toBe(4);
  });

  it('puts the graph above every measured size when the chain won at the largest, and the graph everywhere without a measurement', () => {
    expect(at([3, 3, 3, 3], [1, 1, 1, 1])).toBe(9);
    expect(crossover({ sizes: [], graphMs: [], chainMs: [] })).toBe(1);
  });
});
