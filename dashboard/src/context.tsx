import { createContext, type ReactNode, useContext, useMemo } from 'react';
import type { DashboardConfig, Endpoint } from './api/config';
import { createMeterClient, type MeterClient } from './api/meter';
import { createWalletClient, type WalletClient } from './api/wallet';

export interface AppServices {
  config: DashboardConfig;
  wallets: { endpoint: Endpoint; client: WalletClient }[];
  meters: { endpoint: Endpoint; client: MeterClient }[];
}

const ServicesContext = createContext<AppServices | undefined>(undefined);

export function ServicesProvider({ config, children }: { config: DashboardConfig; children: ReactNode }) {
  const services = useMemo<AppServices>(
    () => ({
      config,
      wallets: config.wallets.map((endpoint) => ({
        endpoint,
        client: createWalletClient(endpoint.url, endpoint.token),
      })),
      meters: config.meters.map((endpoint) => ({ endpoint, client: createMeterClient(endpoint.url) })),
    }),
    [config],
  );
  return <ServicesContext.Provider value={services}>{children}</ServicesContext.Provider>;
}

export function useServices(): AppServices {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices outside ServicesProvider');
  return services;
}
