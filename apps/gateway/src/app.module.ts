import { Module } from '@nestjs/common';
import { ObservabilityModule } from '@parallax/observability';

@Module({
  imports: [ObservabilityModule.forService('gateway')],
})
export class AppModule {}
