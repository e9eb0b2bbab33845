export * from '@tanglewatt/tariff/rational';
