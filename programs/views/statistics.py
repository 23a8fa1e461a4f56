"""Program statistics API (API.md `statistics/programs/`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema

from crm.views.statistics import RESPONSES, StatisticsView, statistics_parameters
from programs.statistics import PROGRAM_DIMENSIONS, program_statistics


class ProgramStatisticsView(StatisticsView):
    dimensions = PROGRAM_DIMENSIONS
    compute = staticmethod(program_statistics)

    @extend_schema(
        operation_id="statistics_programs",
        summary="支援事業の統計（状態別の参加件数・支援日数・採択枠）",
        parameters=statistics_parameters(PROGRAM_DIMENSIONS),
        responses=RESPONSES,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
