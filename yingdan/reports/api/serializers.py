"""Response shapes of the report endpoints (documented in the OpenAPI schema). Amounts are decimal strings,
rates are percentages with one decimal (null when there is nothing to divide by), durations are days."""

from rest_framework import serializers

MONEY = {"max_digits": 20, "decimal_places": 2}


class PipelineRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FunnelStageSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField(allow_blank=True)
    probability = serializers.IntegerField(help_text="Default win probability of the stage (%).")
    count = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    weighted_amount = serializers.DecimalField(**MONEY, help_text="Σ amount × the deal's probability.")


class AmountTotalSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    weighted_amount = serializers.DecimalField(**MONEY)


class FunnelSerializer(serializers.Serializer):
    pipeline = PipelineRefSerializer(allow_null=True)
    stages = FunnelStageSerializer(many=True)
    total = AmountTotalSerializer()


class ConversionStageSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField()
    name = serializers.CharField()
    reached = serializers.IntegerField(help_text="Deals that entered this stage or a later one (won: all stages).")
    next_reached = serializers.IntegerField(help_text="Of those, deals that reached the next stage (or won).")
    rate = serializers.FloatField(allow_null=True, help_text="next_reached / reached, %.")
    overall_rate = serializers.FloatField(allow_null=True, help_text="reached / deals that reached the first stage, %.")


class ConversionSerializer(serializers.Serializer):
    pipeline = PipelineRefSerializer(allow_null=True)
    stages = ConversionStageSerializer(many=True)
    won = serializers.IntegerField()
    deals = serializers.IntegerField(help_text="Deals that moved in the period.")
    win_rate_from_first = serializers.FloatField(allow_null=True, required=False)


class DurationStageSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField()
    name = serializers.CharField()
    moves = serializers.IntegerField(help_text="Moves out of the stage in the period.")
    avg_days = serializers.FloatField(allow_null=True)
    time_limit_days = serializers.IntegerField(allow_null=True)


class CycleSerializer(serializers.Serializer):
    won_deals = serializers.IntegerField()
    avg_days = serializers.FloatField(allow_null=True, help_text="Average days from creation to won.")


class StageDurationSerializer(serializers.Serializer):
    pipeline = PipelineRefSerializer(allow_null=True)
    stages = DurationStageSerializer(many=True)
    cycle = CycleSerializer()


class WinRateRowSerializer(serializers.Serializer):
    key = serializers.IntegerField(allow_null=True, help_text="User, department or source id (null: none).")
    label = serializers.CharField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    won_amount = serializers.DecimalField(**MONEY)
    win_rate = serializers.FloatField(allow_null=True, help_text="won / (won + lost), %.")


class WinRateTotalSerializer(serializers.Serializer):
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    won_amount = serializers.DecimalField(**MONEY)
    win_rate = serializers.FloatField(allow_null=True)


class WinRateSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=["rep", "team", "source"])
    rows = WinRateRowSerializer(many=True)
    total = WinRateTotalSerializer()


class ForecastRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_blank=True, help_text="YYYY-MM (\"\" for no date) or the forecast category.")
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    weighted_amount = serializers.DecimalField(**MONEY)


class ForecastSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=["month", "category"])
    rows = ForecastRowSerializer(many=True)
    total = AmountTotalSerializer()


class StalledDealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField(allow_blank=True)
    customer = serializers.CharField()
    owner = serializers.CharField(allow_blank=True)
    stage = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    stage_entered_at = serializers.DateTimeField()
    days_in_stage = serializers.FloatField()
    time_limit_days = serializers.IntegerField()
    days_over = serializers.FloatField()


class StalledStageSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField()
    stage = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)


class StalledSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Counted up to 5,000 (see count_capped).")
    count_capped = serializers.BooleanField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    has_next = serializers.BooleanField()
    by_stage = StalledStageSerializer(many=True)
    results = StalledDealSerializer(many=True)


class LossReasonChildSerializer(serializers.Serializer):
    reason_id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    share = serializers.FloatField(allow_null=True)


class LossReasonRowSerializer(serializers.Serializer):
    reason_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    share = serializers.FloatField(allow_null=True)
    children = LossReasonChildSerializer(many=True)


class LossTotalSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)


class LossReasonsSerializer(serializers.Serializer):
    rows = LossReasonRowSerializer(many=True)
    total = LossTotalSerializer()


class SopRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="User id, department id or YYYY-MM.")
    label = serializers.CharField()
    moves = serializers.IntegerField(help_text="Stage moves (creations not counted).")
    complete = serializers.IntegerField(help_text="Moves with every required checklist item done.")
    compliance_rate = serializers.FloatField(allow_null=True, help_text="complete / moves, %.")
    over_limit_moves = serializers.IntegerField()
    avg_days_over_limit = serializers.FloatField(help_text="Average days over the stage's time limit (0 within it).")


class SopComplianceSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=["rep", "team", "month"])
    rows = SopRowSerializer(many=True)
    total = SopRowSerializer()
