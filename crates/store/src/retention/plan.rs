use chrono::NaiveDate;
use vigil_config::RetentionPolicy;

use crate::PartitionKey;

/// One partition the plan deletes, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deletion {
    pub partition: PartitionKey,
    /// The last day it had to be kept (its day plus the level's period).
    pub kept_until: NaiveDate,
    pub reason: String,
}

/// Which partitions may go on `today` (UTC): those whose whole day lies more than the level's
/// period in the past. A partition of day D holds events received up to the end of D, so it goes
/// only once `today > D + period`: never a day early. Pure: no clock, no disk.
pub fn plan_deletions(
    partitions: &[PartitionKey],
    policy: &RetentionPolicy,
    today: NaiveDate,
) -> Vec<Deletion> {
    let mut deletions: Vec<Deletion> = partitions
        .iter()
        .filter_map(|partition| {
            let days = policy.days(partition.level);
            let kept_until = partition.day.checked_add_days(chrono::Days::new(u64::from(days)))?;
            (today > kept_until).then(|| Deletion {
                partition: *partition,
                kept_until,
                reason: format!(
                    "level {} keeps {days} days; {} was due until {kept_until} and today is {today}",
                    partition.level, partition.day
                ),
            })
        })
        .collect();
    deletions.sort_by_key(|deletion| deletion.partition);
    deletions.dedup_by_key(|deletion| deletion.partition);
    deletions
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use vigil_event::SecurityLevel;

    fn policy() -> RetentionPolicy {
        RetentionPolicy::from_days([30, 30, 90, 180, 365])
    }

    fn day(offset: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(offset)
    }

    fn partitions() -> impl Strategy<Value = Vec<PartitionKey>> {
        prop::collection::vec(
            (1i64..=5, 0i64..2000).prop_map(|(level, offset)| PartitionKey {
                level: SecurityLevel::new(level).unwrap(),
                day: day(offset),
            }),
            0..60,
        )
    }

    fn policies() -> impl Strategy<Value = RetentionPolicy> {
        // Any lengthening of the legal minimums.
        prop::array::uniform5(0u32..400).prop_map(|extra| {
            let minimum = [30, 30, 90, 180, 365];
            RetentionPolicy::from_days(std::array::from_fn(|i| minimum[i] + extra[i]))
        })
    }

    proptest! {
        #[test]
        fn plan_never_deletes_a_partition_younger_than_its_period(
            partitions in partitions(), policy in policies(), today in 0i64..2500,
        ) {
            let today = day(today);
            for deletion in plan_deletions(&partitions, &policy, today) {
                let age_days = (today - deletion.partition.day).num_days();
                let period = i64::from(policy.days(deletion.partition.level));
                // Its newest event is from the end of its day: age - 1 full days old at least.
                prop_assert!(age_days > period, "{deletion:?} is {age_days} days old, period {period}");
            }
        }

        #[test]
        fn plan_deletes_everything_past_its_period(
            partitions in partitions(), policy in policies(), today in 0i64..2500,
        ) {
            let today = day(today);
            let planned = plan_deletions(&partitions, &policy, today);
            for partition in &partitions {
                let age_days = (today - partition.day).num_days();
                let due = age_days > i64::from(policy.days(partition.level));
                prop_assert_eq!(due, planned.iter().any(|d| d.partition == *partition));
            }
        }

        #[test]
        fn plan_is_idempotent_and_order_independent(
            partitions in partitions(), policy in policies(), today in 0i64..2500,
        ) {
            let today = day(today);
            let planned = plan_deletions(&partitions, &policy, today);
            let mut reversed = partitions.clone();
            reversed.reverse();
            prop_assert_eq!(&planned, &plan_deletions(&reversed, &policy, today));
            let remaining: Vec<PartitionKey> = partitions
                .iter()
                .filter(|p| !planned.iter().any(|d| d.partition == **p))
                .copied()
                .collect();
            prop_assert!(plan_deletions(&remaining, &policy, today).is_empty());
        }
    }

    #[test]
    fn plan_keeps_a_level_five_day_exactly_its_period() {
        let partition = PartitionKey {
            level: SecurityLevel::new(5).unwrap(),
            day: day(0),
        };
        assert!(plan_deletions(&[partition], &policy(), day(365)).is_empty());
        assert_eq!(plan_deletions(&[partition], &policy(), day(366)).len(), 1);
    }
}
