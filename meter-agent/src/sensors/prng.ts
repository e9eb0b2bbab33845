/** The seeded PRNG (mulberry32) the market's simulator uses too, so simulations and tests repeat exactly. */
export { seededRandom } from '@tanglewatt/market';
