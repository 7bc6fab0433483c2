#pragma once

#include "dial_plan.pb.h"

#include <ostream>

/// The dial plan as wardctl prints it (SPEC TF-1..TF-10): one table per part.
namespace ward::cli {

/// Every short code set: scope, code, feature, telephone, route.
void print_short_codes(std::ostream& out, const admin::v1::DialPlan& plan);
/// ARS tables: number and name, trunks, time profile and out-of-hours table, codes.
void print_ars(std::ostream& out, const admin::v1::DialPlan& plan);
void print_time_profiles(std::ostream& out, const admin::v1::DialPlan& plan);
/// Barring by scope and class, then the numbering plan.
void print_barring(std::ostream& out, const admin::v1::DialPlan& plan);
/// Trunks (never a password, only whether one is set), then incoming routes.
void print_trunks(std::ostream& out, const admin::v1::DialPlan& plan);
/// Templates and users' dial settings.
void print_rights(std::ostream& out, const admin::v1::DialPlan& plan);
/// Fraud threshold rules: scope, prefix, time profile, measure, levels and actions.
void print_fraud_rules(std::ostream& out, const admin::v1::DialPlan& plan);
/// Owners of authorization codes (the codes are never returned).
void print_auth_codes(std::ostream& out, const admin::v1::DialPlan& plan);
/// All of the above.
void print(std::ostream& out, const admin::v1::DialPlan& plan);

} // namespace ward::cli
